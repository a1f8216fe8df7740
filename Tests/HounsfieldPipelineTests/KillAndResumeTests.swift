import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("hounsfield run survives SIGKILL", .enabled(if: PipelineTestSupport.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct KillAndResumeTests {
    static let count = 16

    /// Polls the folder until four volumes are published (or the writer exits): opens every shard that appears and
    /// checks each volume's stored voxels against its checksum.
    static func watch(_ folder: URL, whileRunning pid: Int32) -> (Set<String>, [String]) {
        var checked = Set<String>()
        var problems: [String] = []
        let deadline = ContinuousClock.now + .seconds(300)
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline {
            for name in OutputFolder(folder).shardNames() where !checked.contains(name) {
                do {
                    let reader = try ShardReader(url: folder.appendingPathComponent(name))
                    for key in try reader.keys() where try reader.storedChecksum(key) != reader.volume(key).checksum {
                        problems.append("\(name)/\(key): checksum")
                    }
                    checked.insert(name)
                } catch {
                    problems.append("\(name): \(error)")
                }
            }
            if OutputFolder(folder).manifestEntries().entries.count >= 4 { break }
            usleep(2000)
        }
        return (checked, problems)
    }

    /// Kills `hounsfield run` mid-run, checks that every shard visible at any moment was complete, resumes, and
    /// compares the result with an uninterrupted run: same keys, same checksums, no duplicates.
    @Test("kill -9 mid-run, then --resume, ends equal to an uninterrupted run; no reader ever sees a partial shard")
    func killThenResume() async throws {
        let binary = try #require(PipelineTestSupport.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(Self.count, in: inputs, size: 128, slices: 48)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 2}, "privacy": {"salt": "kill-test"}}"#.utf8).write(to: config)
        let arguments = ["run", inputs.path, "--config", config.path, "--spacing", "0.7", "--window", "0,2000",
                         "--normalize", "minmax"]

        let reference = root.appendingPathComponent("reference")
        #expect(try PipelineTestSupport.shell(binary, arguments + ["--output", reference.path]) == 0)

        let interrupted = root.appendingPathComponent("interrupted")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + ["--output", interrupted.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Watch the folder like a data loader would: every visible shard must open and verify. The watcher runs on
        // a Dispatch thread, so a busy cooperative pool (tests run in parallel) cannot make it miss the window.
        let pid = process.processIdentifier
        let (checkedShards, unreadable) = await ParallelLoop.offload { () -> (Set<String>, [String]) in
            Self.watch(interrupted, whileRunning: pid)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        #expect(unreadable.isEmpty, "\(unreadable)")
        let beforeResume = PipelineTestSupport.contents(of: interrupted)
        #expect(beforeResume.count < Self.count)
        #expect(!checkedShards.isEmpty)

        #expect(try PipelineTestSupport.shell(binary, arguments + ["--output", interrupted.path, "--resume"]) == 0)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: interrupted.path).contains { $0.hasSuffix(".partial") })
        let after = PipelineTestSupport.contents(of: interrupted)
        #expect(after == PipelineTestSupport.contents(of: reference))
        #expect(OutputFolder(interrupted).manifestEntries().entries.count == Self.count)   // no duplicates
        #expect(ManifestVerification(folder: interrupted).run().isClean)
    }
}
