import Foundation
import Hounsfield
@testable import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A full disk, a failed flush and a removed folder must end a writer cleanly: a clear error naming the shard and
/// the cause, no crash (HDF5 1.10 frees a file whose close failed but keeps its id: decision 41), published shards
/// intact, the unfinished shard left `.partial`, and a resumed writer that completes once there is room.
@Suite("Shards: a full disk, a failed flush, a removed folder")
struct ShardDiskFullTests {
    static let keys = (0..<14).map { "volume-\($0)" }
    static func volume(_ key: String) -> Volume<Float32> {
        ShardTestSupport.phantom(size: GridSize(x: 64, y: 64, z: 40), seed: UInt64(key.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
    }

    /// Writes every key until the writer fails (or finishes); returns the failure and the keys it accepted.
    static func writeUntilFailure(_ writer: ShardWriter) -> (failure: ShardError?, accepted: [String]) {
        var accepted: [String] = []
        do {
            for key in keys {
                try writer.write(volume(key), key: key)
                accepted.append(key)
            }
            try writer.finish()
            return (nil, accepted)
        } catch {
            return (error, accepted)
        }
    }

    /// What must hold after any output failure: the writer stays failed, published shards are whole and listed,
    /// nothing unlisted is published, the unfinished shard stays `.partial`.
    static func checkStoppedCleanly(_ writer: ShardWriter, error: ShardError?, folder: URL, accepted: [String]) throws {
        let failure = try #require(error?.outputFailure, "expected an output failure, got \(String(describing: error))")
        #expect(failure.isNoSpace, "\(failure)")
        #expect(failure.errno == ENOSPC)
        #expect(failure.cause.contains("no space left on device"))
        #expect(failure.path.hasPrefix(folder.path), "the failure names the file: \(failure.path)")
        #expect("\(failure)".contains(failure.path))
        #expect(writer.failure == failure && writer.failureFlag.isRaised)
        // Every later call throws the same failure, finish() included (twice: it is idempotent).
        #expect(throws: ShardError.outputFailed(failure)) { try writer.write(volume("late"), key: "late") }
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }

        let files = ShardTestSupport.files(in: folder)
        let manifest = OutputFolder(folder).manifestEntries()
        #expect(manifest.unreadable.isEmpty, "a failed append must not leave half a line: \(manifest.unreadable)")
        #expect(manifest.entries.map(\.key) == writer.published.map(\.key))
        #expect(Set(manifest.entries.map(\.key)).isSubset(of: Set(accepted)))
        // Only whole shards are published, and each is listed (a failure after the rename, at the manifest append,
        // would leave one unlisted but whole: resuming recovers it).
        let listed = Set(manifest.entries.map(\.shard))
        for name in OutputFolder(folder).shardNames() {
            let keys = try ShardReader(url: folder.appendingPathComponent(name)).keys()
            #expect(!keys.isEmpty)
            if !listed.contains(name) {
                // Only a failure after the rename (the folder's fsync, the manifest append) leaves a shard unlisted.
                #expect(failure.path.hasSuffix("manifest.jsonl") || failure.path == folder.path || failure.path.hasSuffix(name),
                        "\(name) published but not listed, after \(failure)")
            }
        }
        let verification = ManifestVerification(folder: folder).run()
        #expect(verification.isClean && verification.checked == manifest.entries.count, "\(verification)")
        let partials = files.filter { $0.hasSuffix(".h5.partial") }
        #expect(partials.count <= 1, "\(files)")
        for partial in partials { #expect(!listed.contains(String(partial.dropLast(".partial".count)))) }
        #expect(!files.contains { $0.hasSuffix(".tmp") }, "no temporary debris: \(files)")
        #expect(HDF5Object.unreleasedFiles.load(ordering: .relaxed) == 0, "HDF5 released every file it was asked to close")
    }

    /// After the disk is made larger, a resuming writer removes the `.partial`, skips what was published and writes
    /// the rest: every key once, verify clean.
    static func resumeAndComplete(_ folder: URL, options: ShardWriterOptions) throws {
        var resumedOptions = options
        resumedOptions.resume = true
        let resumed = try ShardWriter(directory: folder, options: resumedOptions)
        #expect(!ShardTestSupport.files(in: folder).contains { $0.hasSuffix(".partial") })
        for key in keys where !resumed.isPublished(key) { try resumed.write(volume(key), key: key) }
        try resumed.finish()
        let entries = OutputFolder(folder).manifestEntries().entries
        #expect(entries.map(\.key).sorted() == keys.sorted(), "every key exactly once")
        #expect(ManifestVerification(folder: folder).run().isClean)
        for entry in entries {
            let reader = try ShardReader(url: folder.appendingPathComponent(entry.shard))
            #expect(try reader.volume(entry.key).checksum == volume(entry.key).storedChecksum, "\(entry.key)")
            #expect(try reader.readImage(entry.key).voxels == volume(entry.key).voxels, "\(entry.key)")
        }
    }

    @Test("a disk that fills up mid-shard: clear error, no crash, published shards intact, .partial kept; resume completes",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs root on Linux to mount a small tmpfs (CI runs the tests as root)"),
          arguments: [(1.5, "none"), (2, "none"), (2.6, "none"), (3, "none"), (3.5, "none"), (4.1, "none"), (5, "none"),
                      (1, "gzip:1"), (2, "gzip:1"), (1.2, "zstd:3"), (1.6, "zstd:3")])
    func diskFills(megabytes: Double, compression: String) throws {
        let disk = try SmallDisk(megabytes: megabytes)
        defer { disk.unmount() }
        let folder = disk.url.appendingPathComponent("out")
        let options = ShardWriterOptions(compression: try ShardCompression(parsing: compression), maxVolumesPerShard: 2)
        let writer = try ShardWriter(directory: folder, options: options)
        let (error, accepted) = Self.writeUntilFailure(writer)
        try Self.checkStoppedCleanly(writer, error: error, folder: folder, accepted: accepted)

        try disk.resize(megabytes: 64)
        try Self.resumeAndComplete(folder, options: options)
    }

    @Test("a disk left with a few free pages: the next volume fails wherever it lands (group, attributes, chunks), cleanly",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs root on Linux to mount a small tmpfs (CI runs the tests as root)"),
          arguments: [0, 4, 8, 12, 24, 40, 80, 200, 400, 640, 700])
    func fewPagesLeft(kilobytes: Int) throws {
        let disk = try SmallDisk(megabytes: 16)
        defer { disk.unmount() }
        let folder = disk.url.appendingPathComponent("out")
        let options = ShardWriterOptions(compression: .none, maxVolumesPerShard: 3)
        let writer = try ShardWriter(directory: folder, options: options)
        try writer.write(Self.volume(Self.keys[0]), key: Self.keys[0])
        let filler = disk.fill(leaving: kilobytes << 10)
        var (error, accepted) = (ShardError?.none, [Self.keys[0]])
        do {
            for key in Self.keys.dropFirst() {
                try writer.write(Self.volume(key), key: key)
                accepted.append(key)
            }
            try writer.finish()
        } catch let failure {
            error = failure
        }
        try Self.checkStoppedCleanly(writer, error: error, folder: folder, accepted: accepted)
        try FileManager.default.removeItem(at: filler)
        try Self.resumeAndComplete(folder, options: options)
    }

    @Test("the flush at publication fails on a full disk (the crash of the report): clean error, .partial kept, no crash",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs root on Linux to mount a small tmpfs (CI runs the tests as root)"),
          arguments: [1, 3])
    func flushFails(volumes: Int) throws {
        let disk = try SmallDisk(megabytes: 16)
        defer { disk.unmount() }
        let folder = disk.url.appendingPathComponent("out")
        let options = ShardWriterOptions(maxVolumesPerShard: 2)
        let writer = try ShardWriter(directory: folder, options: options)
        for key in Self.keys.prefix(volumes) { try writer.write(Self.volume(key), key: key) }
        // The chunks are on disk, the last shard's metadata only in HDF5's cache: take every free byte, so that the
        // flush before the close is what meets the full disk.
        let filler = disk.fill()
        #expect(disk.freeBytes == 0)
        var error: ShardError?
        do { try writer.finish() } catch let failure { error = failure }
        let failure = try #require(error?.outputFailure, "\(String(describing: error))")
        #expect(failure.isNoSpace && failure.path.hasSuffix(".h5.partial"), "\(failure)")
        #expect(failure.operation == "publish" || failure.operation == "fsync", "\(failure)")
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }
        #expect(throws: ShardError.outputFailed(failure)) { try writer.write(Self.volume("late"), key: "late") }
        let files = ShardTestSupport.files(in: folder)
        #expect(files.filter { $0.hasSuffix(".partial") }.count == 1, "\(files)")
        #expect(HDF5Object.unreleasedFiles.load(ordering: .relaxed) == 0, "the discarded file was released")
        #expect(OutputFolder(folder).manifestEntries().entries.count == (volumes > 2 ? 2 : 0))
        #expect(ManifestVerification(folder: folder).run().isClean)

        try FileManager.default.removeItem(at: filler)   // the test's own file: "space was freed"
        var resumedOptions = options
        resumedOptions.resume = true
        let resumed = try ShardWriter(directory: folder, options: resumedOptions)
        for key in Self.keys.prefix(volumes) where !resumed.isPublished(key) { try resumed.write(Self.volume(key), key: key) }
        try resumed.finish()
        #expect(OutputFolder(folder).manifestEntries().entries.map(\.key).sorted() == Array(Self.keys.prefix(volumes)).sorted())
        #expect(ManifestVerification(folder: folder).run().isClean)
        #expect(!ShardTestSupport.files(in: folder).contains { $0.hasSuffix(".partial") })
    }

    @Test("a writer dropped on a full disk without finish() leaves its .partial and does not crash",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs root on Linux to mount a small tmpfs (CI runs the tests as root)"))
    func droppedOnFullDisk() throws {
        let disk = try SmallDisk(megabytes: 8)
        defer { disk.unmount() }
        let folder = disk.url.appendingPathComponent("out")
        do {
            let writer = try ShardWriter(directory: folder, options: ShardWriterOptions(maxVolumesPerShard: 4))
            try writer.write(Self.volume("a"), key: "a")
            disk.fill()
        }
        #expect(ShardTestSupport.files(in: folder).contains("shard-00000.h5.partial"))
        #expect(HDF5Object.unreleasedFiles.load(ordering: .relaxed) == 0)
    }

    @Test("the output folder removed while a writer works: a clean error naming the folder, no crash")
    func folderRemoved() throws {
        let root = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("out")
        let writer = try ShardWriter(directory: folder, options: ShardWriterOptions(maxVolumesPerShard: 1))
        try writer.write(Self.volume("a"), key: "a")
        try writer.write(Self.volume("b"), key: "b")   // publishes the first shard
        #expect(OutputFolder(folder).shardNames() == ["shard-00000.h5"])
        try FileManager.default.removeItem(at: folder)
        var error: ShardError?
        do {
            try writer.write(Self.volume("c"), key: "c")   // publishing the second shard finds the folder gone
            try writer.finish()
        } catch let failure {
            error = failure
        }
        let failure = try #require(error?.outputFailure, "\(String(describing: error))")
        #expect(failure.folder == OutputFolder(folder).path)
        #expect(failure.cause.contains("no longer exists") && failure.cause.contains(OutputFolder(folder).path), "\(failure)")
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }
        #expect(writer.published.map(\.key) == ["a"])
        #expect(!FileManager.default.fileExists(atPath: folder.path), "nothing recreates the removed folder")
    }

    @Test("a manifest append that fails is cut off again, and a torn last line is ended before the next one")
    func manifestAppendHeals() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder, options: ShardWriterOptions(maxVolumesPerShard: 1))
        try writer.write(Self.volume("a"), key: "a")
        try writer.finish()
        // A crash (power loss) tore the end of the manifest: half a line, no newline.
        let manifest = folder.appendingPathComponent("manifest.jsonl")
        let handle = try FileHandle(forWritingTo: manifest)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"key":"torn","sha"#.utf8))
        try handle.close()
        let resumed = try ShardWriter(directory: folder, options: ShardWriterOptions(maxVolumesPerShard: 1, resume: true))
        try resumed.write(Self.volume("b"), key: "b")
        try resumed.finish()
        let read = OutputFolder(folder).manifestEntries()
        #expect(read.entries.map(\.key) == ["a", "b"])
        #expect(read.unreadable.count == 1)
    }
}
