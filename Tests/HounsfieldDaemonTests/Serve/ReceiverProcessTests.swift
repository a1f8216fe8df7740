import Foundation
import Hounsfield
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `hounsfield serve` with its DICOM receiver, driven by DCMTK's own storescu and echoscu: what it acknowledges is
/// durable, what it writes equals `hounsfield run`'s output, and kills, signals and a full spool lose nothing.
@Suite("hounsfield serve: DICOM receiver (storescu, echoscu)", .serialized, .timeLimit(.minutes(10)),
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/storescu"), "needs DCMTK's storescu (apt install dcmtk; scripts/setup.sh does)"))
struct ReceiverProcessTests {
    @Test("three studies in parallel, in explicit VR, JPEG lossless, JPEG-LS and JPEG 2000, become the volumes `hounsfield run` makes; an AE title not on the list is refused")
    func parallelSyntaxes() async throws {
        let harness = try ServeHarness()
        defer { harness.remove() }
        let sent = [
            (try harness.series("explicit", syntax: .explicit, seed: 11), nil as String?),
            (try harness.series("jpeg-lossless", syntax: .jpegLossless, seed: 12), "-xs"),
            (try harness.series("jpeg-ls", syntax: .jpegLS, seed: 13), "-xt"),
            (try harness.series("j2k", syntax: .j2k, seed: 14), "-xv"),
        ]
        let daemon = try harness.start(["--allow-calling-ae", "STORESCU", "--allow-calling-ae", "MODALITY2"])
        defer { daemon.signal(SIGKILL) }
        let port = try await daemon.ready()

        let echo = try await ChildProcess.run("/usr/bin/echoscu", ["-aet", "STORESCU", "-aec", "HOUNSFIELD", "127.0.0.1", "\(port)"], logs: harness.logs)
        #expect(echo.status == 0, "echoscu: \(echo.standardError)")
        let intruder = try await harness.storescu(port, sent[0].0, callingAE: "INTRUDER")
        #expect(intruder.status != 0)
        #expect(intruder.standardError.contains("Rejected"), "storescu from INTRUDER: \(intruder.standardError)")

        // Three senders at once, then the fourth.
        try await withThrowingTaskGroup(of: ChildProcess.Finished.self) { group in
            for (folder, syntax) in sent.prefix(3) {
                group.addTask { try await harness.storescu(port, folder, proposing: syntax) }
            }
            for try await finished in group {
                #expect(finished.status == 0, "storescu: \(finished.standardError)")
                #expect(ServeHarness.acknowledged(in: finished.standardError).count == 10)
            }
        }
        let last = try await harness.storescu(port, sent[3].0, proposing: sent[3].1, callingAE: "MODALITY2")
        #expect(last.status == 0, "storescu: \(last.standardError)")
        #expect(last.standardError.contains("JPEG 2000"), "the instances travelled as JPEG 2000: \(last.standardError)")

        let served = try await harness.waitForVolumes(4, daemon: daemon)
        let batch = try await harness.batch(sent.map(\.0))
        #expect(batch.count == 4)
        for (key, reference) in batch {
            let entry = try #require(served[key], "the daemon wrote no volume \(key)")
            #expect(entry.checksum == reference.checksum, "\(key): the daemon's voxels differ from hounsfield run's")
            #expect(entry.shape == reference.shape && entry.spacing == reference.spacing && entry.origin == reference.origin)
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.exit(within: .seconds(60)) == 0)
    }

    @Test("kill -9 between instances and right after the last acknowledgement: after a restart, every acknowledged instance is in the spool and processed")
    func killNine() async throws {
        let harness = try ServeHarness()
        defer { harness.remove() }
        let long = try harness.series("long", size: 32, slices: 120, seed: 21)
        let short = try harness.series("short", size: 32, slices: 12, seed: 22)
        var daemon = try harness.start(quietSeconds: 30)
        var port = try await daemon.ready()

        // Between instances: a watcher thread kills the daemon once storescu has heard success 25 times, without
        // waiting for a test task to be scheduled.
        let sender = try ChildProcess.start("/usr/bin/storescu", harness.storescuArguments(port, long), in: harness.logs)
        let killedAt = KillWhen(daemon: daemon.process.processIdentifier, log: sender.2, acknowledgements: 25)
        let interrupted = try await ChildProcess.wait(sender, timeout: .seconds(180))
        let acknowledgedBeforeKill = ServeHarness.acknowledged(in: interrupted.standardError)
        #expect(await killedAt.fired(), "the daemon was not killed mid-stream")
        #expect(acknowledgedBeforeKill.count >= 25 && acknowledgedBeforeKill.count < 120,
                "storescu heard success \(acknowledgedBeforeKill.count) times")
        _ = try await daemon.exit(within: .seconds(10))

        // Right after the last acknowledgement: the whole short series is acknowledged, then the daemon is killed
        // before its quiet time has passed.
        daemon = try harness.start(quietSeconds: 30)
        port = try await daemon.ready()
        let whole = try await harness.storescu(port, short)
        #expect(whole.status == 0)
        daemon.signal(SIGKILL)
        _ = try await daemon.exit(within: .seconds(10))
        let acknowledged = acknowledgedBeforeKill + ServeHarness.acknowledged(in: whole.standardError)
        #expect(ServeHarness.acknowledged(in: whole.standardError).count == 12)

        // Zero acknowledged-but-lost: each is in the spool, recorded, before anything is sent again.
        let paths = try await harness.spoolPaths(of: acknowledged)
        #expect(paths.count == acknowledged.count)
        for (file, path) in paths {
            #expect(FileManager.default.fileExists(atPath: path), "acknowledged \(file) is not in the spool")
        }

        // The restarted daemon processes what it holds: the short series at once (the partial long one waits when
        // its instances show gaps). The sender then sends the long series again (repeats are no-ops), and the final
        // volumes equal the batch run's; a long series processed partially before is completed as version 2.
        let batch = try await harness.batch([long, short])
        let shortKey = try #require(batch.first { $0.value.shape[0] < 60 }?.key)
        let longKey = try #require(batch.first { $0.key != shortKey }?.key)
        daemon = try harness.start(quietSeconds: 1)
        defer { daemon.signal(SIGKILL) }
        port = try await daemon.ready()
        let first = try await harness.waitForManifest("the short series", daemon: daemon) { $0[shortKey] != nil }
        #expect(first[shortKey]?.checksum == batch[shortKey]?.checksum)
        let again = try await harness.storescu(port, long)
        #expect(again.status == 0)
        let served = try await harness.waitForManifest("the whole long series", daemon: daemon) { entries in
            [longKey, longKey + "-v2"].contains { entries[$0]?.checksum == batch[longKey]?.checksum }
        }
        #expect(served[longKey + "-v2"] == nil || served[longKey] != nil, "a version 2 is written beside version 1")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exit(within: .seconds(60)) == 0)
    }

    @Test("SIGTERM while instances arrive: a clean exit (0), every acknowledged instance kept and processed at the next start")
    func sigtermUnderLoad() async throws {
        let harness = try ServeHarness()
        defer { harness.remove() }
        let series = try harness.series("load", size: 32, slices: 120, seed: 31)
        var daemon = try harness.start(quietSeconds: 1)
        let port = try await daemon.ready()
        let sender = try ChildProcess.start("/usr/bin/storescu", harness.storescuArguments(port, series), in: harness.logs)
        let signalled = KillWhen(daemon: daemon.process.processIdentifier, log: sender.2, acknowledgements: 20, signal: SIGTERM)
        let status = try await daemon.exit(within: .seconds(60))
        #expect(await signalled.fired())
        #expect(status == 0, "the daemon's log:\n\(daemon.log)")
        let interrupted = try await ChildProcess.wait(sender, timeout: .seconds(60))
        let acknowledged = ServeHarness.acknowledged(in: interrupted.standardError)
        #expect(acknowledged.count >= 20)
        for (file, path) in try await harness.spoolPaths(of: acknowledged) {
            #expect(FileManager.default.fileExists(atPath: path), "acknowledged \(file) is not in the spool")
        }
        // The sender sends the rest after the restart (what it sent before is a repeat); the volume is whole.
        daemon = try harness.start(quietSeconds: 1)
        defer { daemon.signal(SIGKILL) }
        let again = try await harness.storescu(try await daemon.ready(), series)
        #expect(ServeHarness.acknowledged(in: again.standardError).count == 120)
        let batch = try await harness.batch([series])
        let key = try #require(batch.keys.first)
        _ = try await harness.waitForManifest("the whole series", daemon: daemon) { entries in
            [key, key + "-v2"].contains { entries[$0]?.checksum == batch[key]?.checksum }
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.exit(within: .seconds(60)) == 0)
    }

    @Test("a spool on a small tmpfs that fills up: storescu hears 'out of resources', never success, and nothing acknowledged is lost",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs to mount a tmpfs (root on Linux)"))
    func fullSpool() async throws {
        let harness = try ServeHarness()
        defer { harness.remove() }
        // 512×512 slices of 512 KiB: a 6 MB disk that refuses below 2 MB of free space takes about 8 of 20.
        let series = try harness.series("big", size: 512, slices: 20, seed: 41)
        let disk = try SmallDisk(megabytes: 6)
        defer { disk.unmount() }
        let config = harness.root.appendingPathComponent("serve.yaml")
        try """
            serve:
              spool: {folder: \(disk.url.path)/spool, minimum_free: 2MiB}
            """.write(to: config, atomically: true, encoding: .utf8)
        var daemon = try harness.start(["--config", config.path, "--spool", disk.url.appendingPathComponent("spool").path], quietSeconds: 600)
        let port = try await daemon.ready()
        let sent = try await harness.storescu(port, series)
        let log = sent.standardError
        let acknowledged = ServeHarness.acknowledged(in: log)
        #expect(acknowledged.count > 0 && acknowledged.count < 20, "acknowledged \(acknowledged.count) of 20:\n\(log)")
        #expect(log.contains("OutOfResources"), "storescu never heard 'out of resources':\n\(log)")
        daemon.signal(SIGKILL)
        _ = try await daemon.exit(within: .seconds(10))
        let scan = try await SeriesScanner().scan(acknowledged)
        for series in scan.series {
            for image in series.images {
                let path = disk.url.appendingPathComponent("spool/instances/\(series.studyInstanceUID!)/\(series.seriesInstanceUID)/\(image.sopInstanceUID!).dcm").path
                #expect(FileManager.default.fileExists(atPath: path), "acknowledged \(image.source.name) is not in the spool")
            }
        }
        // Space is freed; the sender sends again; everything arrives.
        try disk.resize(megabytes: 40)
        daemon = try harness.start(["--config", config.path, "--spool", disk.url.appendingPathComponent("spool").path], quietSeconds: 1)
        defer { daemon.signal(SIGKILL) }
        let again = try await harness.storescu(try await daemon.ready(), series)
        #expect(ServeHarness.acknowledged(in: again.standardError).count == 20)
        let served = try await harness.waitForVolumes(1, daemon: daemon)
        let batch = try await harness.batch([series])
        #expect(served.values.first?.checksum == batch.values.first?.checksum)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exit(within: .seconds(60)) == 0)
    }

    @Test("an output disk that fills up: the daemon stops with status 1, the acknowledged series stays in the spool, and a restart with space processes it",
          .enabled(if: SmallDisk.unavailableReason == nil, "needs to mount a tmpfs (root on Linux)"))
    func fullOutput() async throws {
        let harness = try ServeHarness()
        defer { harness.remove() }
        let series = try harness.series("study", size: 64, slices: 20, seed: 51)
        let disk = try SmallDisk(megabytes: 4)
        defer { disk.unmount() }
        let output = disk.url.appendingPathComponent("out")
        var daemon = try harness.start(["--output", output.path], quietSeconds: 1)
        let port = try await daemon.ready()
        let filler = disk.fill()
        let sent = try await harness.storescu(port, series)
        #expect(ServeHarness.acknowledged(in: sent.standardError).count == 20)
        let status = try await daemon.exit(within: .seconds(60))
        #expect(status == 1, "the daemon's log:\n\(daemon.log)")
        #expect(daemon.log.contains("output failed"), "the daemon's log:\n\(daemon.log)")

        try FileManager.default.removeItem(at: filler)
        daemon = try harness.start(["--output", output.path], quietSeconds: 1)
        defer { daemon.signal(SIGKILL) }
        _ = try await daemon.ready()
        let deadline = ContinuousClock.now + .seconds(90)
        var served: [String: ManifestEntry] = [:]
        while served.isEmpty && ContinuousClock.now < deadline {
            served = harness.manifest(of: output)
            try await Task.sleep(for: .milliseconds(100))
        }
        if served.isEmpty { served = harness.manifest(of: output) }  // a starved task looks once more
        let batch = try await harness.batch([series])
        #expect(served.values.first?.checksum == batch.values.first?.checksum, "the daemon's log:\n\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.exit(within: .seconds(60)) == 0)
    }
}

/// Sends `signal` to the daemon from a thread of its own once storescu's log shows `acknowledgements` successes.
final class KillWhen: Sendable {
    private let done = Mutex(false)

    init(daemon: pid_t, log: URL, acknowledgements: Int, signal: Int32 = SIGKILL) {
        let thread = Thread { [self] in
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if ServeHarness.acknowledged(in: text).count >= acknowledgements {
                    kill(daemon, signal)
                    done.withLock { $0 = true }
                    return
                }
                usleep(5_000)
            }
        }
        thread.start()
    }

    /// Whether the signal was sent (waits up to 2 minutes for the watcher, suspending: the watcher's thread does
    /// the time-critical part).
    func fired() async -> Bool {
        for _ in 0..<1200 {
            if done.withLock({ $0 }) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

import Synchronization
