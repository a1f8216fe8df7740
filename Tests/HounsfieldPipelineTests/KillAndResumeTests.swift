import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("hounsfield run survives SIGKILL", .enabled(if: PipelineTestSupport.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct KillAndResumeTests {
    /// Kills `hounsfield run` mid-run, checks that every shard visible at any moment was complete, resumes, and
    /// compares the result with an uninterrupted run: same keys, same checksums, no duplicates.
    @Test("kill -9 mid-run, then --resume, ends equal to an uninterrupted run; no reader ever sees a partial shard")
    func killThenResume() async throws {
        let binary = try #require(PipelineTestSupport.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(10, in: inputs, size: 96, slices: 40)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 2}, "privacy": {"salt": "kill-test"}}"#.utf8).write(to: config)
        let arguments = ["run", inputs.path, "--config", config.path, "--spacing", "1", "--window", "0,2000",
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
        // Watch the folder like a data loader would: every visible shard must open and verify.
        var checkedShards = Set<String>()
        var unreadable: [String] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning && ContinuousClock.now < deadline {
            let published = OutputFolder(interrupted).manifestEntries().entries.count
            for name in OutputFolder(interrupted).shardNames() where !checkedShards.contains(name) {
                do {
                    let reader = try ShardReader(url: interrupted.appendingPathComponent(name))
                    for key in try reader.keys() where try reader.storedChecksum(key) != reader.volume(key).checksum {
                        unreadable.append("\(name)/\(key): checksum")
                    }
                    checkedShards.insert(name)
                } catch {
                    unreadable.append("\(name): \(error)")
                }
            }
            if published >= 4 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        #expect(unreadable.isEmpty, "\(unreadable)")
        let beforeResume = PipelineTestSupport.contents(of: interrupted)
        #expect(beforeResume.count < 10)
        #expect(!checkedShards.isEmpty)

        #expect(try PipelineTestSupport.shell(binary, arguments + ["--output", interrupted.path, "--resume"]) == 0)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: interrupted.path).contains { $0.hasSuffix(".partial") })
        let after = PipelineTestSupport.contents(of: interrupted)
        #expect(after == PipelineTestSupport.contents(of: reference))
        #expect(OutputFolder(interrupted).manifestEntries().entries.count == 10)   // no duplicates
        #expect(ManifestVerification(folder: interrupted).run().isClean)
    }
}
