import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("Shards: atomic publishing, resume, several writers")
struct ShardResumeTests {
    /// The keys and checksums of a folder's manifest(s), deduplicated: what a run "ended with".
    static func contents(of folder: URL) -> [String: String] {
        Dictionary(OutputFolder(folder).manifestEntries().entries.map { ($0.key, $0.checksum) }, uniquingKeysWith: { a, _ in a })
    }

    static let keys = (0..<7).map { "series-\($0)" }
    static func volume(_ key: String) -> Volume<Float32> {
        ShardTestSupport.phantom(size: GridSize(x: 40, y: 33, z: 12), seed: UInt64(key.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
    }

    @Test("an interrupted writer leaves only complete shards, and resuming ends where an uninterrupted run ends")
    func resumeAfterInterruption() throws {
        let reference = ShardTestSupport.temporaryFolder("reference")
        let interrupted = ShardTestSupport.temporaryFolder("interrupted")
        defer { for f in [reference, interrupted] { try? FileManager.default.removeItem(at: f) } }
        let volumes = Dictionary(uniqueKeysWithValues: Self.keys.map { ($0, Self.volume($0)) })
        let options = ShardWriterOptions(maxVolumesPerShard: 2)

        let full = try ShardWriter(directory: reference, options: options)
        for key in Self.keys { try full.write(volumes[key]!, key: key) }
        try full.finish()

        // The first run dies after five volumes: two shards published, the third half-written.
        do {
            let first = try ShardWriter(directory: interrupted, options: options)
            for key in Self.keys.prefix(5) { try first.write(volumes[key]!, key: key) }
        }
        let afterCrash = ShardTestSupport.files(in: interrupted)
        #expect(afterCrash == ["manifest.jsonl", "shard-00000.h5", "shard-00001.h5", "shard-00002.h5.partial"])
        // What a reader sees at that moment: every published shard opens and verifies.
        let seen = ManifestVerification(folder: interrupted).run()
        #expect(seen.isClean && seen.checked == 4)

        let second = try ShardWriter(directory: interrupted, options: ShardWriterOptions(maxVolumesPerShard: 2, resume: true))
        var skipped: [String] = []
        for key in Self.keys {
            if second.isPublished(key) { skipped.append(key); continue }
            try second.write(volumes[key]!, key: key)
        }
        try second.finish()
        #expect(skipped == Array(Self.keys.prefix(4)))
        #expect(!ShardTestSupport.files(in: interrupted).contains { $0.hasSuffix(".partial") })
        #expect(Self.contents(of: interrupted) == Self.contents(of: reference))
        #expect(OutputFolder(interrupted).manifestEntries().entries.count == Self.keys.count)   // no duplicates
        #expect(ManifestVerification(folder: interrupted).run().isClean)
    }

    @Test("a shard published just before a crash, without its manifest lines, is recovered on resume")
    func recoverLostManifestLines() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder, options: .init(maxVolumesPerShard: 2))
        for key in Self.keys.prefix(4) { try writer.write(Self.volume(key), key: key) }
        try writer.finish()
        // Lose the second shard's lines, as if the process died between the rename and the append.
        let manifest = folder.appendingPathComponent("manifest.jsonl")
        let lines = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n")
        try (lines.prefix(2).joined(separator: "\n") + "\n").write(to: manifest, atomically: true, encoding: .utf8)

        let resumed = try ShardWriter(directory: folder, options: .init(maxVolumesPerShard: 2, resume: true))
        #expect(resumed.recovered.map(\.key) == Array(Self.keys[2..<4]))
        #expect(Self.keys.prefix(4).allSatisfy(resumed.isPublished))
        try resumed.finish()
        #expect(OutputFolder(folder).manifestEntries().entries.map(\.key).sorted() == Array(Self.keys.prefix(4)))
    }

    @Test("several writers share a folder by worker name; merge builds one manifest; verify checks every entry")
    func severalWriters() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = try ShardWriter(directory: folder, options: .init(worker: "w0"))
        let b = try ShardWriter(directory: folder, options: .init(worker: "w1"))
        for (i, key) in Self.keys.enumerated() { try (i.isMultiple(of: 2) ? a : b).write(Self.volume(key), key: key) }
        try a.finish()
        try b.finish()
        #expect(ShardTestSupport.files(in: folder) == ["manifest-w0.jsonl", "manifest-w1.jsonl", "shard-00000-w0.h5", "shard-00000-w1.h5"])
        // A shard whose manifest lines were lost still gets merged.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("manifest-w1.jsonl"))
        let report = try ManifestMerge(folder: folder).run()
        #expect(report.volumes == Self.keys.count)
        #expect(report.recovered.sorted() == Self.keys.enumerated().filter { !$0.offset.isMultiple(of: 2) }.map(\.element).sorted())
        #expect(report.duplicates.isEmpty)
        let merged = try String(contentsOf: folder.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        #expect(merged.split(separator: "\n").count == Self.keys.count)
        let verification = ManifestVerification(folder: folder).run()
        #expect(verification.isClean && verification.passed == Self.keys.count && verification.unlisted.isEmpty)
        #expect(throws: ShardError.self) { try ShardWriter(directory: folder, options: .init(worker: "bad-name")) }
    }
}
