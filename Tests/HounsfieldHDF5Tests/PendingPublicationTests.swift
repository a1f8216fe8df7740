import Foundation
import Hounsfield
@testable import HounsfieldHDF5
import Testing

/// A shard closed for publication is completed on another thread while the writer fills the next one (decision 69):
/// the result must be what publishing in line gives, a key stays taken while its shard is in flight, and a
/// publication that fails stops the writer like any other output failure.
@Suite("Shards: publications completed beside the writer")
struct PendingPublicationTests {
    static func volume(_ seed: UInt64) -> Volume<Float32> {
        ShardTestSupport.phantom(size: GridSize(x: 40, y: 33, z: 12), seed: seed)
    }

    @Test("each shard completed on another thread while the next is written: the folder equals one written in line")
    func completedBesideTheWriter() async throws {
        let inLine = ShardTestSupport.temporaryFolder("inline")
        let beside = ShardTestSupport.temporaryFolder("beside")
        defer { for folder in [inLine, beside] { try? FileManager.default.removeItem(at: folder) } }
        let keys = (0..<5).map { "study-\($0)" }

        let reference = try ShardWriter(directory: inLine)
        for (index, key) in keys.enumerated() {
            try reference.write(Self.volume(UInt64(index)), key: key)
            try reference.publishOpenShard()
        }
        try reference.finish()

        let writer = try ShardWriter(directory: beside)
        var inFlight: Task<Void, any Error>?
        for (index, key) in keys.enumerated() {
            try writer.write(Self.volume(UInt64(index)), key: key)
            let pending = try #require(try writer.closeOpenShard())
            #expect(pending.shard == "shard-0000\(index).h5" && pending.entries.map(\.key) == [key])
            // The key is taken from the moment its shard is closed, durable or not.
            #expect(writer.isPublished(key))
            #expect(throws: ShardError.self) { try writer.write(Self.volume(99), key: key) }
            try await inFlight?.value
            inFlight = Task.detached { try pending.complete() }
        }
        try await inFlight?.value
        #expect(try writer.closeOpenShard() == nil)
        try writer.finish()

        // Completed in the background, they are the writer's published lines but not "newly published" by its
        // own calls: whoever completed them reports them.
        #expect(writer.published.map(\.key) == keys)
        #expect(writer.takeNewlyPublished().isEmpty)
        let expected = ShardResumeTests.contents(of: inLine)
        #expect(ShardResumeTests.contents(of: beside) == expected && expected.count == keys.count)
        #expect(ShardTestSupport.files(in: beside) == ShardTestSupport.files(in: inLine))
        #expect(ManifestVerification(folder: beside).run().isClean)
    }

    @Test("a rotation inside write and finish() are handed out once by takeNewlyPublished, in order")
    func ownPublicationsHandedOutOnce() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder, options: ShardWriterOptions(maxVolumesPerShard: 2))
        for index in 0..<3 { try writer.write(Self.volume(UInt64(index)), key: "v\(index)") }
        #expect(writer.takeNewlyPublished().map(\.key) == ["v0", "v1"])
        #expect(writer.takeNewlyPublished().isEmpty)
        try writer.finish()
        #expect(writer.takeNewlyPublished().map(\.key) == ["v2"])
    }

    /// A writer whose shard of "first" is closed, not yet published, and whose next shard holds "second".
    static func firstClosedSecondOpen() throws -> (URL, ShardWriter, PendingPublication) {
        let folder = ShardTestSupport.temporaryFolder()
        let writer = try ShardWriter(directory: folder)
        try writer.write(volume(1), key: "first")
        let pending = try #require(try writer.closeOpenShard())
        try writer.write(volume(2), key: "second")
        return (folder, writer, pending)
    }

    @Test("a publication that fails beside the writer stops the writer: later calls throw, the shard stays unlisted")
    func failedPublicationStopsTheWriter() async throws {
        let (folder, writer, pending) = try Self.firstClosedSecondOpen()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The closed shard vanishes before it is made durable (an operator, a cleaner): the fsync cannot open it.
        try FileManager.default.removeItem(at: folder.appendingPathComponent(pending.shard + ".partial"))
        let error = await #expect(throws: ShardError.self) { try await Task.detached { try pending.complete() }.value }
        let failure = try #require(writer.failure)
        #expect(error == .outputFailed(failure))
        #expect(failure.path.hasSuffix(pending.shard + ".partial"), "\(failure)")
        #expect(throws: ShardError.outputFailed(failure)) { try writer.write(Self.volume(3), key: "third") }
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }
        #expect(writer.published.isEmpty)
        #expect(OutputFolder(folder).manifestEntries().entries.isEmpty)
        #expect(OutputFolder(folder).shardNames().isEmpty)
    }

    @Test("a shard closed before the writer's output failed is still published: only what came after is lost")
    func closedBeforeTheFailureIsPublished() async throws {
        let (folder, writer, pending) = try Self.firstClosedSecondOpen()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The next volume's shard fails (a full disk, say) before the first one's publication has run.
        let failure = writer.failureFlag.raise(OutputFailure(
            path: folder.appendingPathComponent("shard-00001.h5.partial").path, folder: folder.path, operation: "write",
            errno: 28, cause: "no space left on device (errno 28)", detail: "injected"))
        try await Task.detached { try pending.complete() }.value
        #expect(writer.published.map(\.key) == ["first"])
        #expect(OutputFolder(folder).manifestEntries().entries.map(\.key) == ["first"])
        #expect(OutputFolder(folder).shardNames() == ["shard-00000.h5"])
        #expect(throws: ShardError.outputFailed(failure)) { try writer.finish() }
    }
}
