import Foundation
@testable import HounsfieldDaemon
import Testing

/// A study folder is taken once it stops changing, once; finished folders move out with their reason.
@Suite("Watch folder")
struct WatchFolderTests {
    @Test("stable after the set time, taken once; a change restarts the clock; a folder that leaves is forgotten")
    func stability() {
        var tracker = StabilityTracker(stableFor: .seconds(30))
        let t0 = ContinuousClock.now
        #expect(tracker.observe(["a": 1, "b": 1], now: t0).isEmpty)
        #expect(tracker.observe(["a": 1, "b": 2], now: t0 + .seconds(20)).isEmpty)  // b still being copied
        #expect(tracker.observe(["a": 1, "b": 2], now: t0 + .seconds(30)) == ["a"])
        #expect(tracker.observe(["a": 1, "b": 2], now: t0 + .seconds(40)).isEmpty)  // a is not taken twice
        #expect(tracker.observe(["a": 1, "b": 2], now: t0 + .seconds(50)) == ["b"])
        // Both leave (moved to done/); a new folder of the same name is a new study.
        #expect(tracker.observe([:], now: t0 + .seconds(60)).isEmpty)
        #expect(tracker.observe(["a": 3], now: t0 + .seconds(61)).isEmpty)
        #expect(tracker.observe(["a": 3], now: t0 + .seconds(91)) == ["a"])
        // Moved out and replaced between two looks: released, so the new one is a new study.
        tracker.release("a")
        #expect(tracker.observe(["a": 3], now: t0 + .seconds(92)).isEmpty)
        #expect(tracker.observe(["a": 3], now: t0 + .seconds(122)) == ["a"])
    }

    @Test("a study folder dropped in is yielded once it is stable; done/ and failed/ keep it, with the reason",
          .timeLimit(.minutes(5)))
    func watchAndFinish() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var watch = WatchFolder(folder: root)
        watch.stableFor = .milliseconds(300)
        watch.pollEvery = .milliseconds(50)
        let studies = watch.studies()
        let study = root.appendingPathComponent("study-1")
        try FileManager.default.createDirectory(at: study, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: study.appendingPathComponent("a.dcm"))
        try Data([1]).write(to: root.appendingPathComponent("loose.dcm"))  // not a study folder
        var iterator = studies.makeAsyncIterator()
        let first = try #require(await iterator.next())
        #expect(first.lastPathComponent == "study-1")
        try watch.finish(first)
        #expect(FileManager.default.fileExists(atPath: watch.doneFolder.appendingPathComponent("study-1/a.dcm").path))

        let second = root.appendingPathComponent("study-1")  // the same name again
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try Data([4]).write(to: second.appendingPathComponent("b.dcm"))
        let again = try #require(await iterator.next())
        try watch.finish(again, failure: "no CT series: 1 file excluded")
        #expect(FileManager.default.fileExists(atPath: watch.failedFolder.appendingPathComponent("study-1/b.dcm").path))
        let reason = try String(contentsOf: watch.failedFolder.appendingPathComponent("study-1.reason.txt"), encoding: .utf8)
        #expect(reason.contains("no CT series"))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("loose.dcm").path))
    }

    @Test("a name already in done/ gets a numbered suffix: nothing is overwritten")
    func noOverwrite() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let watch = WatchFolder(folder: root)
        for content in [UInt8(1), 2] {
            let study = root.appendingPathComponent("s")
            try FileManager.default.createDirectory(at: study, withIntermediateDirectories: true)
            try Data([content]).write(to: study.appendingPathComponent("x.dcm"))
            try watch.finish(study)
        }
        #expect(FileManager.default.contents(atPath: watch.doneFolder.appendingPathComponent("s/x.dcm").path) == Data([1]))
        #expect(FileManager.default.contents(atPath: watch.doneFolder.appendingPathComponent("s.2/x.dcm").path) == Data([2]))
    }
}
