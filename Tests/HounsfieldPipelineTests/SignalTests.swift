import Foundation
import HounsfieldTestSupport
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("hounsfield run stops cleanly on SIGTERM", .enabled(if: ChildProcess.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct SignalTests {
    static let count = 16

    /// SIGTERM (a scheduler's preemption, `kill`) after the first shard is published: the series in flight finish,
    /// the open shard is published, the rest are reported cancelled, the exit status is 130, and no half-written
    /// shard is left; a resume completes the set.
    @Test("SIGTERM mid-run: exit 130, no half shard, a clean manifest and report; --resume completes the set")
    func terminateThenResume() async throws {
        let binary = try #require(ChildProcess.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        // Series large enough that the signal, handled within milliseconds, lands while most are still to do.
        try PipelineTestSupport.series(Self.count, in: inputs, size: 256, slices: 48)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 2}, "privacy": {"salt": "signal-test"}}"#.utf8).write(to: config)
        let output = root.appendingPathComponent("out")
        let arguments = ["run", inputs.path, "--config", config.path, "--spacing", "0.7", "--window", "0,2000",
                         "--normalize", "minmax", "--output", output.path]
        let started = try ChildProcess.start(binary, arguments, in: root)
        let pid = started.0.processIdentifier
        // Paced from here (SIGCONT, a few milliseconds, SIGSTOP), so the signal lands mid-run however fast or busy
        // the machine is: the run only advances while this loop watches it. The loop never suspends (`usleep`, not
        // `Task.sleep`): a test task starved by the parallel suite would otherwise leave the run continued for
        // seconds, and find it finished.
        let deadline = ContinuousClock.now + .seconds(300)
        var signalled = false
        while started.0.isRunning, ContinuousClock.now < deadline {
            kill(pid, SIGCONT)
            usleep(15_000)
            kill(pid, SIGSTOP)
            let published = OutputFolder(output).manifestEntries().entries.count
            try #require(published < Self.count, "the run ended while paced: the signal could not land mid-run")
            if published >= 2 {
                kill(pid, SIGTERM)
                kill(pid, SIGCONT)
                signalled = true
                break
            }
        }
        #expect(signalled, "the run ended before a shard was published")
        let finished = try await ChildProcess.wait(started, timeout: .seconds(180))
        #expect(finished.status == 130, "exit \(finished.status): \(finished.standardError)")
        #expect(finished.standardError.contains("stopping"), "\(finished.standardError)")
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(!files.contains { $0.hasSuffix(".partial") }, "\(files)")
        #expect(ManifestVerification(folder: output).run().isClean)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("report.json"))) as! [String: Any]
        let counts = report["counts"] as! [String: Int]
        let written = counts["written"] ?? 0
        #expect(report["cancelled"] as? Bool == true)
        #expect(written >= 2 && written < Self.count, "\(counts)")
        #expect(written + (counts["cancelled"] ?? 0) == Self.count, "\(counts)")
        #expect(OutputFolder(output).manifestEntries().entries.count == written)

        let resumed = try await ChildProcess.run(binary, arguments + ["--resume"], logs: root, timeout: .seconds(300))
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let entries = OutputFolder(output).manifestEntries().entries
        #expect(entries.count == Self.count && Set(entries.map(\.key)).count == Self.count)
        #expect(ManifestVerification(folder: output).run().isClean)
    }
}
