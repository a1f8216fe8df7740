import Foundation
import HounsfieldTestSupport
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("hounsfield run survives SIGKILL", .enabled(if: ChildProcess.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct KillAndResumeTests {
    static let count = 16

    /// Whether the child has ended (gone, or a zombie not yet reaped by `Process`). Reaping is left to `Process`.
    static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Runs the writer in short time slices (SIGCONT, a few milliseconds, SIGSTOP) and, while it is stopped at
    /// an arbitrary point, opens every shard that has appeared, like a data loader would. Once four volumes are
    /// published the writer is left stopped, to be killed where it stands. Pacing the child from here makes the
    /// test independent of machine load: the writer only advances while the watcher is awake to see it.
    static func watch(_ folder: URL, pacing pid: Int32) -> (Set<String>, [String]) {
        var opened = Set<String>()
        var problems: [String] = []
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            kill(pid, SIGCONT)
            usleep(15_000)
            kill(pid, SIGSTOP)
            if hasExited(pid) { break }
            for name in OutputFolder(folder).shardNames() where !opened.contains(name) {
                do {
                    _ = try ShardReader(url: folder.appendingPathComponent(name)).keys()
                    opened.insert(name)
                } catch {
                    problems.append("\(name): \(error)")
                }
            }
            if OutputFolder(folder).manifestEntries().entries.count >= 4 { break }
        }
        return (opened, problems)
    }

    /// Kills `hounsfield run` mid-run, checks that every shard visible at any moment was complete, resumes, and
    /// compares the result with an uninterrupted run: same keys, same checksums, no duplicates.
    @Test("kill -9 mid-run, then --resume, ends equal to an uninterrupted run; no reader ever sees a partial shard")
    func killThenResume() async throws {
        let binary = try #require(ChildProcess.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(Self.count, in: inputs, size: 128, slices: 48)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 2}, "privacy": {"salt": "kill-test"}}"#.utf8).write(to: config)
        let arguments = ["run", inputs.path, "--config", config.path, "--spacing", "0.7", "--window", "0,2000",
                         "--normalize", "minmax"]

        let reference = root.appendingPathComponent("reference")
        #expect(try await PipelineTestSupport.shell(
            binary, arguments + ["--output", reference.path, "--decode-jobs", "2", "--transform-jobs", "1"]) == 0)
        // Per-stage jobs given as flags reach the run, and its report says what ran.
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: reference.appendingPathComponent("report.json"))) as? [String: Any]
        let execution = report?["execution"] as? [String: Any]
        #expect(execution?["decode_jobs"] as? Int == 2)
        #expect(execution?["transform_jobs"] as? Int == 1)

        let interrupted = root.appendingPathComponent("interrupted")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["--output", interrupted.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Watch the folder like a data loader would: every visible shard must open and verify. The watcher gets a
        // thread of its own (the pools are busy with the other suites) and paces the writer, see `watch`.
        let pid = process.processIdentifier
        let (checkedShards, unreadable) = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Self.watch(interrupted, pacing: pid)) }
            thread.qualityOfService = .userInteractive
            thread.start()
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        #expect(unreadable.isEmpty, "\(unreadable)")
        // Every shard that was visible while the writer ran holds complete, intact volumes.
        for name in checkedShards {
            let reader = try ShardReader(url: interrupted.appendingPathComponent(name))
            for key in try reader.keys() {
                #expect(try reader.storedChecksum(key) == reader.volume(key).checksum, "\(name)/\(key)")
            }
        }
        let beforeResume = PipelineTestSupport.contents(of: interrupted)
        #expect(beforeResume.count < Self.count)
        #expect(!checkedShards.isEmpty)

        #expect(try await PipelineTestSupport.shell(binary, arguments + ["--output", interrupted.path, "--resume"]) == 0)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: interrupted.path).contains { $0.hasSuffix(".partial") })
        let after = PipelineTestSupport.contents(of: interrupted)
        #expect(after == PipelineTestSupport.contents(of: reference))
        #expect(OutputFolder(interrupted).manifestEntries().entries.count == Self.count)   // no duplicates
        #expect(ManifestVerification(folder: interrupted).run().isClean)
    }
}
