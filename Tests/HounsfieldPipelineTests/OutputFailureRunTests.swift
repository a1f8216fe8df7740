import Foundation
import Hounsfield
import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `hounsfield run` when its output fails: a full disk, or the output folder removed mid-run. The process must stop
/// cleanly with exit status 4 (never a crash), name the output and the cause, keep what it published, and a
/// `--resume` run after the cause is fixed must complete the set.
@Suite("hounsfield run when the output fails", .enabled(if: ChildProcess.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct OutputFailureRunTests {
    /// The exit status `hounsfield run` documents for a failed output.
    static let outputFailedStatus: Int32 = 4

    /// The report: report.json when it could be written, else the copy the run printed on standard error.
    static func report(in folder: URL, standardError: String) throws -> [String: Any] {
        if let data = FileManager.default.contents(atPath: folder.appendingPathComponent("report.json").path) {
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let start = try #require(standardError.range(of: "; the report:\n"), "neither report.json nor the report on stderr:\n\(standardError)")
        let end = try #require(standardError.range(of: "\n}\n", range: start.upperBound..<standardError.endIndex))
        let json = standardError[start.upperBound..<end.lowerBound] + "\n}"
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test("a disk that fills up: exit 4, the shard and the cause on stderr, only whole shards; after remounting larger, --resume completes",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs root on Linux to mount a small tmpfs (CI runs the tests as root)"),
          .timeLimit(.minutes(3)))
    func diskFills() async throws {
        let binary = try #require(ChildProcess.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        // Six series resampled to 256×256×60 float32, uncompressed: 16.8 MB stored each, 33.6 MB per shard of two.
        try PipelineTestSupport.series(6, in: inputs, size: 128, slices: 30)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 2, "compression": "none", "dtype": "float32"}, "privacy": {"salt": "disk-full"}}"#.utf8)
            .write(to: config)
        // Room for two shards, not three.
        let disk = try SmallDisk(megabytes: 80)
        defer { disk.unmount() }
        let output = disk.url.appendingPathComponent("out")
        let arguments = ["run", inputs.path, "--config", config.path, "--spacing", "0.45,0.45,1", "--output", output.path]

        let failed = try await ChildProcess.run(binary, arguments, logs: root)
        #expect(failed.reason == .exit, "the run must end, not crash:\n\(failed.standardError.suffix(3000))")
        #expect(failed.status == Self.outputFailedStatus, "\(failed.standardError.suffix(3000))")
        #expect(failed.standardError.contains(output.appendingPathComponent("shard-00002.h5.partial").path), "\(failed.standardError.suffix(2000))")
        #expect(failed.standardError.contains("no space left on device"))

        let report = try Self.report(in: output, standardError: failed.standardError)
        let outputFailure = try #require(report["output_failure"] as? [String: Any])
        #expect(outputFailure["errno"] as? Int == Int(ENOSPC))
        #expect((outputFailure["path"] as? String)?.hasPrefix(output.path) == true)
        let series = try #require(report["series"] as? [[String: Any]])
        #expect(series.count == 6)
        let manifest = OutputFolder(output).manifestEntries().entries
        let written = Set(series.filter { $0["status"] as? String == "written" }.compactMap { $0["key"] as? String })
        #expect(written == Set(manifest.map(\.key)), "written means published and listed")
        #expect(manifest.count == 4, "two whole shards of two volumes were published before the disk filled")
        for outcome in series where outcome["status"] as? String != "written" {
            let status = outcome["status"] as? String
            #expect(status == "failed" || status == "not_processed", "\(outcome)")
            if status == "failed" {
                #expect(outcome["stage"] as? String == "write")
                #expect((outcome["error"] as? String)?.contains("no space left on device") == true, "\(outcome)")
            }
        }
        // Only whole shards are published, each listed; the unfinished one is a `.partial`.
        #expect(OutputFolder(output).shardNames() == ["shard-00000.h5", "shard-00001.h5"])
        #expect(Set(manifest.map(\.shard)) == ["shard-00000.h5", "shard-00001.h5"])
        #expect(ManifestVerification(folder: output).run().isClean)
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).contains("shard-00002.h5.partial"))

        // Space is freed: the resumed run removes the `.partial` and writes the rest.
        try disk.resize(megabytes: 200)
        let resumed = try await ChildProcess.run(binary, arguments + ["--resume"], logs: root)
        #expect(resumed.reason == .exit && resumed.status == 0, "\(resumed.standardError.suffix(3000))")
        let entries = OutputFolder(output).manifestEntries().entries
        #expect(entries.count == 6 && Set(entries.map(\.key)).count == 6, "every key exactly once")
        #expect(ManifestVerification(folder: output).run().isClean)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: output.path).contains { $0.hasSuffix(".partial") })
        let final = try Self.report(in: output, standardError: resumed.standardError)
        #expect((final["counts"] as? [String: Any])?["resumed"] as? Int == 4)
        #expect(final["output_failure"] == nil)
    }

    @Test("the output folder removed mid-run: exit 4, the folder and the cause on stderr, no crash", .timeLimit(.minutes(3)))
    func folderRemoved() async throws {
        let binary = try #require(ChildProcess.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        let count = 8
        try PipelineTestSupport.series(count, in: inputs, size: 64, slices: 24)
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"output": {"shard_volumes": 1}, "privacy": {"salt": "removed"}}"#.utf8).write(to: config)
        let output = root.appendingPathComponent("out")
        let started = try ChildProcess.start(
            binary, ["run", inputs.path, "--config", config.path, "--output", output.path], in: root)
        let pid = started.0.processIdentifier
        // Pace the run (as KillAndResumeTests does) and stop it once its first shard is published.
        let published: Int = await withCheckedContinuation { continuation in
            let thread = Thread {
                var published = 0
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    kill(pid, SIGCONT)
                    usleep(3_000)
                    kill(pid, SIGSTOP)
                    if KillAndResumeTests.hasExited(pid) { break }
                    published = OutputFolder(output).manifestEntries().entries.count
                    if published > 0 { break }
                }
                continuation.resume(returning: published)
            }
            thread.qualityOfService = .userInteractive
            thread.start()
        }
        #expect(published > 0 && published < count, "the run must be stopped after its first shard and before its last")
        try FileManager.default.removeItem(at: output)
        kill(pid, SIGCONT)
        let finished = try await ChildProcess.wait(started, timeout: .seconds(120))
        #expect(finished.reason == .exit, "the run must end, not crash:\n\(finished.standardError.suffix(3000))")
        #expect(finished.status == Self.outputFailedStatus, "\(finished.standardError.suffix(3000))")
        #expect(finished.standardError.contains("the output folder \(output.path) no longer exists"), "\(finished.standardError.suffix(3000))")
        // The report could not be written into the removed folder: it is on stderr, and says what happened.
        let report = try Self.report(in: output, standardError: finished.standardError)
        #expect(report["output_failure"] is [String: Any])
        #expect(!FileManager.default.fileExists(atPath: output.path), "nothing recreates the removed folder")
    }
}
