@testable import HounsfieldPipeline
import Testing

/// When the write stage hands back the memory it keeps for its next volume (decision 69): not while studies keep
/// coming, once it has waited `releaseMemoryAfter`, and once per quiet spell.
@Suite("The write stage's memory: kept through a stream, released when quiet")
struct WriterActivityTests {
    @Test("a second by default, or the idle time when shorter")
    func releaseDelay() {
        #expect(WriterActivity(idleAfter: .seconds(3600)).releaseMemoryAfter == .seconds(1))
        #expect(WriterActivity(idleAfter: .milliseconds(300)).releaseMemoryAfter == .milliseconds(300))
    }

    @Test("nothing to release before a write; after one, only once quiet; then not again until the next write")
    func releaseOncePerQuietSpell() async throws {
        let activity = WriterActivity(idleAfter: .milliseconds(100))
        #expect(!activity.shouldReleaseMemory)
        activity.touch()
        #expect(!activity.shouldReleaseMemory, "a writer that just wrote keeps its buffers for the next volume")
        try await Task.sleep(for: .milliseconds(150))
        #expect(activity.shouldReleaseMemory)
        activity.memoryReleased()
        #expect(!activity.shouldReleaseMemory)
        try await Task.sleep(for: .milliseconds(150))
        #expect(!activity.shouldReleaseMemory, "released once per quiet spell, not at every tick")
        activity.touch()
        try await Task.sleep(for: .milliseconds(150))
        #expect(activity.shouldReleaseMemory)
    }
}
