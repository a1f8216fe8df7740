import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hounsfield
import HounsfieldDistributed
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The coordinator and its workers as real processes on loopback, with faults injected the way clusters inject
/// them: SIGKILL (a lost node), SIGSTOP past the lease TTL (a frozen VM, a long GC pause), a coordinator killed and
/// started again, a unit that crashes every worker that takes it, a wrong token. Each test ends with the invariants
/// of ``ScaleOutHarness/checkInvariants(poisoned:)``.
@Suite("Coordinator and workers as processes", .serialized, .enabled(if: ChildProcess.executable != nil))
struct ScaleOutTests {
    @Test("40 studies, three workers: one SIGKILLed mid-lease, a poison unit quarantined after three workers",
          .timeLimit(.minutes(10)))
    func killedWorkerAndPoisonUnit() async throws {
        // Study 0 is large (seconds of work), and leased first: w1 holds it long enough to be caught holding it,
        // however loaded the machine. A lease of a worker that died stays leased until its TTL, so a w1 that met
        // the poison first is caught holding its leases too.
        let harness = try ScaleOutHarness(studies: 40, poison: [7], large: [0])
        defer { harness.remove() }
        let address = try await harness.startCoordinator()
        try harness.startWorker("w1", address: address)
        // Kill w1 while it holds a lease, before anyone else could take its units. w1 runs only in short slices
        // while this loop watches it (SIGCONT, a few milliseconds, SIGSTOP), so it is caught holding one however
        // loaded the machine is. The loop never suspends (`usleep`, not `Task.sleep`): a test task starved by the
        // parallel suite would otherwise leave w1 running for seconds, and see it finish or die first.
        let deadline = ContinuousClock.now + .seconds(180)
        var looked: [WorkUnit.ID] = []
        while looked.isEmpty, ContinuousClock.now < deadline {
            harness.signal("w1", SIGCONT)
            usleep(20_000)
            harness.signal("w1", SIGSTOP)
            looked = harness.journalValue { journal in
                try journal.leases().filter { $0.worker == "w1" }.map(\.unit.id)
            } ?? []
        }
        try #require(!looked.isEmpty, "w1 never held a lease: \(harness.log("coordinator").suffix(2000))")
        harness.signal("w1", SIGKILL)
        // A completion w1 sent just before it was stopped can be settled after the look (it was still in a socket
        // buffer): once the coordinator has seen the session end, such units are done by w1. The rest were held
        // by a dead worker. (Read from the attempts, not the leases: a watcher starved past the TTL would find
        // those expired and taken back already.)
        try await harness.waitForLog("coordinator", containing: "worker session ended", "worker hung up")
        let held = harness.journalValue { journal in
            try looked.filter { unit in try journal.attempts(of: unit).first?.end != .completed }
        } ?? []
        #expect(!held.isEmpty, "w1 was killed holding the large study, leased first")
        try harness.startWorker("w2", address: address)
        try harness.startWorker("w3", address: address)
        let status = try await harness.waitForCoordinator(address: address)
        #expect(status == 3, "quarantined units make the coordinator exit 3: \(harness.log("coordinator").suffix(2000))")

        let journal = try Journal(path: harness.journalPath)
        for unit in held where !(try journal.unit(unit)!.path.contains("poison")) {
            let attempts = try journal.attempts(of: unit)
            let seen = attempts.map { "\($0.worker): \($0.end.map { "\($0)" } ?? "open")" }
            #expect(attempts.first?.worker == "w1" && attempts.first?.end == .expired, "unit \(unit): \(seen)")
            #expect(attempts.last?.end == .completed && attempts.last?.worker != "w1" || attempts.count > 1,
                    "unit \(unit): \(seen)")
        }
        try journal.close()
        try await harness.checkInvariants(poisoned: ["poison"])
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: harness.output.appendingPathComponent("report.json"))) as? [String: Any]
        let quarantined = report?["quarantined"] as? [[String: Any]] ?? []
        #expect(quarantined.count == 1, "\(quarantined)")
        // Every casualty is listed; they span three distinct workers (one may have taken it twice).
        let errors = quarantined.first?["errors"] as? [String] ?? []
        #expect(errors.count <= 6)
        #expect(Set(errors.map { $0.prefix { $0 != ":" } }).count == 3, "\(errors)")
    }

    @Test("A worker stopped past its lease TTL comes back to a unit done by another: its late result is refused",
          .timeLimit(.minutes(10)))
    func stoppedWorkerIsFenced() async throws {
        // The two large studies are leased first (largest first), and take w1 seconds each.
        let harness = try ScaleOutHarness(studies: 12, large: [3, 8], leaseTTL: 8)
        defer { harness.remove() }
        let address = try await harness.startCoordinator()
        try harness.startWorker("w1", address: address)
        // Stop w1 while it holds leases. As in the poison test, w1 runs only in short slices while this loop watches
        // it (SIGCONT, a few milliseconds, SIGSTOP), and the loop never suspends: a test task starved by the
        // parallel suite would otherwise leave w1 running until it had finished the whole run (seen in CI).
        let deadline = ContinuousClock.now + .seconds(180)
        var looked: [Lease] = []
        while looked.isEmpty, ContinuousClock.now < deadline {
            harness.signal("w1", SIGCONT)
            usleep(20_000)
            harness.signal("w1", SIGSTOP)
            looked = harness.journalValue { journal in try journal.leases().filter { $0.worker == "w1" } } ?? []
        }
        // A completion w1 sent just before it was stopped can still be in a socket buffer: give the coordinator a
        // moment to settle it, then keep the leases w1 still holds (stopped, it cannot finish another).
        usleep(1_000_000)
        let frozen = harness.journalValue { journal in try journal.leases().filter { $0.worker == "w1" } } ?? []
        try #require(!frozen.isEmpty, "w1 never held a lease while stopped (looked: \(looked.map(\.unit.id))): \(harness.log("coordinator").suffix(2000))")
        // Past the TTL, w2 takes the frozen units over (epoch + 1) and completes them.
        try await Task.sleep(for: .seconds(harness.leaseTTL + 1))
        try harness.startWorker("w2", address: address)
        try await harness.waitForJournal { journal in
            try frozen.allSatisfy { lease in
                if case .done = try journal.state(of: lease.unit.id) { return true }
                return false
            }
        }
        harness.signal("w1", SIGCONT)
        let status = try await harness.waitForCoordinator(address: address)
        #expect(status == 0, "\(harness.log("coordinator").suffix(2000))")

        // Each frozen unit was completed by w2 under a later epoch; w1's results were refused (on its first heartbeat
        // back, or on its completion), and no manifest line points into a shard of w1's for those keys.
        let journal = try Journal(path: harness.journalPath)
        for lease in frozen {
            let attempts = try journal.attempts(of: lease.unit.id)
            #expect(attempts.contains { $0.worker == "w1" && $0.epoch == lease.epoch && $0.end == .expired })
            #expect(attempts.last?.worker == "w2" && attempts.last?.end == .completed && attempts.last!.epoch > lease.epoch)
            if case .done(let outcomes) = try journal.state(of: lease.unit.id) {
                #expect(outcomes.allSatisfy { !$0.shard.contains("-w1.") })
            }
        }
        try journal.close()
        let coordinatorLog = harness.log("coordinator")
        #expect(coordinatorLog.contains("revoked a lease") || coordinatorLog.contains("refused a stale result"))
        try await harness.checkInvariants()
    }

    @Test("The coordinator SIGKILLed mid-run and started again resumes from its journal", .timeLimit(.minutes(10)))
    func coordinatorRestart() async throws {
        let harness = try ScaleOutHarness(studies: 30)
        defer { harness.remove() }
        let address = try await harness.startCoordinator()
        try harness.startWorker("w1", address: address)
        try harness.startWorker("w2", address: address)
        try await harness.waitForJournal { journal in try journal.counts().done >= 5 }
        harness.signal("coordinator", SIGKILL)
        _ = try await harness.waitForExit("coordinator")
        let doneBefore = try Journal(path: harness.journalPath).counts().done
        // The same arguments; the port differs (0 again), so the workers are pointed at the new one by restarting
        // them, as a scheduler would after a Service's endpoint changed. Units they held stay leased until expiry.
        harness.signal("w1", SIGKILL)
        harness.signal("w2", SIGKILL)
        let newAddress = try await harness.restartCoordinator()
        try harness.startWorker("w1", address: newAddress)
        try harness.startWorker("w2", address: newAddress)
        let status = try await harness.waitForCoordinator(address: newAddress)
        #expect(status == 0, "\(harness.log("coordinator").suffix(2000))")
        let journal = try Journal(path: harness.journalPath)
        #expect(try journal.counts().done == 30)
        // Nothing done before the kill was done again.
        let redone = try journal.units().filter { try journal.attempts(of: $0.id).filter { $0.end == .completed }.count > 1 }
        #expect(redone.isEmpty)
        #expect(doneBefore >= 5)
        try journal.close()
        try await harness.checkInvariants()
    }

    @Test("Tokens: a worker with the wrong token is refused and exits 6; no token on a public address is refused",
          .timeLimit(.minutes(5)))
    func tokens() async throws {
        let harness = try ScaleOutHarness(studies: 2)
        defer { harness.remove() }
        let tokenFile = harness.root.appendingPathComponent("token")
        try Data("right-token\n".utf8).write(to: tokenFile)
        let metricsPort = 20_000 + Int(getpid() % 20_000)
        let address = try await harness.startCoordinator(
            extra: ["--token-file", tokenFile.path, "--metrics", "127.0.0.1:\(metricsPort)"])
        // Prometheus text while the run waits for workers: both units pending.
        let metrics = try await Self.fetch("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(metrics.contains("hounsfield_coordinator_units{state=\"pending\"} 2"), "\(metrics)")
        #expect(try await Self.fetch("http://127.0.0.1:\(metricsPort)/other").contains("/metrics"))
        try harness.startWorker("intruder", address: address, token: "wrong-token")
        #expect(try await harness.waitForExit("intruder") == 6)
        #expect(harness.log("intruder").contains("rejected the token"))
        try harness.startWorker("w1", address: address, token: "right-token")
        #expect(try await harness.waitForCoordinator(address: address) == 0)

        let open = try await ChildProcess.run(
            harness.binary, ["coordinator", harness.archive.path, "--output", harness.root.appendingPathComponent("o2").path,
                             "--listen", "0.0.0.0:0"], logs: harness.root)
        #expect(open.status == 2)
        #expect(open.standardError.contains("without a token"))
    }

    @Test("SIGTERM: a worker finishes the series in flight, hands its units back (not counted against them), exits 0",
          .timeLimit(.minutes(10)))
    func workerStopsGracefully() async throws {
        let harness = try ScaleOutHarness(studies: 8, large: [2, 5])
        defer { harness.remove() }
        let address = try await harness.startCoordinator()
        try harness.startWorker("w1", address: address)
        try await harness.waitForJournal { journal in try journal.leases().filter { $0.worker == "w1" }.count >= 2 }
        harness.signal("w1", SIGTERM)
        #expect(try await harness.waitForExit("w1") == 0, "\(harness.log("w1").suffix(2000))")
        // The coordinator settles the session's end as it notices it: a unit assigned while w1 was stopping is
        // handed back then.
        try await harness.waitForJournal(timeout: .seconds(20)) { journal in
            try !journal.leases().contains { $0.worker == "w1" }
        }
        let journal = try Journal(path: harness.journalPath)
        let attempts = try journal.units().flatMap { try journal.attempts(of: $0.id) }.filter { $0.worker == "w1" }
        // Whatever w1 held ended as completed or handed back: nothing expired, nothing failed.
        #expect(!attempts.isEmpty)
        #expect(attempts.allSatisfy { $0.end == .completed || $0.end == .released },
                "\(attempts.map { "\($0.unit): \($0.end.map { "\($0)" } ?? "open") \($0.error ?? "")" }) \(harness.log("w1").suffix(3000))")
        try journal.close()
        try harness.startWorker("w2", address: address)
        #expect(try await harness.waitForCoordinator(address: address) == 0)
        try await harness.checkInvariants()
    }

    @Test("Across network namespaces joined by a veth pair: a coordinator with a token, two workers on the other side",
          .timeLimit(.minutes(10)))
    func acrossNamespaces() async throws {
        guard let namespaces = await NetworkNamespaces.make() else {
            print("skipped: needs root and iproute2 (ip netns)")
            return
        }
        defer { Task { await namespaces.remove() } }
        let harness = try ScaleOutHarness(studies: 10)
        defer { harness.remove() }
        let tokenFile = harness.root.appendingPathComponent("token")
        try Data("namespace-token".utf8).write(to: tokenFile)
        let address = try await harness.startCoordinator(
            extra: ["--token-file", tokenFile.path], host: namespaces.coordinatorAddress,
            namespace: namespaces.coordinatorSide)
        #expect(address.hasPrefix(namespaces.coordinatorAddress))
        try harness.startWorker("w1", address: address, token: "namespace-token", namespace: namespaces.workerSide)
        try harness.startWorker("w2", address: address, token: "namespace-token", namespace: namespaces.workerSide)
        #expect(try await harness.waitForCoordinator(address: address) == 0, "\(harness.log("coordinator").suffix(2000))")
        try await harness.checkInvariants()
        await namespaces.remove()
    }

    @Test("TLS: a worker that trusts the run's certificate works; a plaintext one cannot connect and gives up (exit 5)",
          .timeLimit(.minutes(5)))
    func tls() async throws {
        let harness = try ScaleOutHarness(studies: 3)
        defer { harness.remove() }
        let certificate = harness.root.appendingPathComponent("cert.pem").path
        let key = harness.root.appendingPathComponent("key.pem").path
        let made = try await ChildProcess.run(
            "/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                 "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            logs: harness.root)
        try #require(made.status == 0, "openssl: \(made.standardError)")
        let address = try await harness.startCoordinator(extra: ["--tls-certificate", certificate, "--tls-key", key])
        try harness.startWorker("plain", address: address, extra: ["--give-up-after", "3"])
        #expect(try await harness.waitForExit("plain") == 5)
        try harness.startWorker("w1", address: address, extra: ["--tls-ca", certificate])
        #expect(try await harness.waitForCoordinator(address: address) == 0, "\(harness.log("w1").suffix(2000))")
        try await harness.checkInvariants()
    }

    @Test("An nnU-Net raw dataset is split into its cases: one unit each, found whole by its worker (label, dataset.json), written as run writes it",
          .timeLimit(.minutes(10)))
    func nnUNetDatasetCases() async throws {
        let harness = try ScaleOutHarness(studies: 0)
        defer { harness.remove() }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/labels-nifti/totalseg-ct")
        let dataset = harness.archive.appendingPathComponent("Dataset042_Test")
        for (source, target) in [
            ("example_ct_sm.nii.gz", "imagesTr/case_001_0000.nii.gz"), ("example_seg.nii.gz", "labelsTr/case_001.nii.gz"),
            ("example_ct_sm.nii.gz", "imagesTr/case_002_0000.nii.gz"), ("example_seg.nii.gz", "labelsTr/case_002.nii.gz"),
            ("example_ct_sm.nii.gz", "imagesTs/case_101_0000.nii.gz"),
        ] {
            let destination = dataset.appendingPathComponent(target)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: example.appendingPathComponent(source), to: destination)
        }
        try #"{"channel_names": {"0": "CT"}, "labels": {"background": 0, "spleen": 1}, "file_ending": ".nii.gz", "numTraining": 2}"#
            .write(to: dataset.appendingPathComponent("dataset.json"), atomically: true, encoding: .utf8)

        let address = try await harness.startCoordinator()
        try harness.startWorker("w1", address: address)
        try harness.startWorker("w2", address: address)
        #expect(try await harness.waitForCoordinator(address: address) == 0, "\(harness.log("coordinator").suffix(2000))")
        let journal = try Journal(path: harness.journalPath)
        let units = try journal.units().map { URL(fileURLWithPath: $0.path).lastPathComponent }.sorted()
        try journal.close()
        #expect(units == ["case_001_0000.nii.gz", "case_002_0000.nii.gz", "case_101_0000.nii.gz"])
        try await harness.checkInvariants()  // keys and checksums as `run` over the dataset writes them
        let entries = OutputFolder(harness.output).manifestEntries().entries
        #expect(entries.count == 3)
        let labelled = entries.filter { entry in
            guard let labels = entry.labels else { return false }
            return labels.classes["1"] == "spleen" && (labels.voxels["1"] ?? 0) > 0
        }
        #expect(labelled.count == 2, "the training cases carry their labelsTr maps: \(entries.map(\.labels))")
    }

    /// The body of an HTTP GET, retried for a few seconds while the endpoint comes up.
    static func fetch(_ url: String) async throws -> String {
        var lastError: (any Error)?
        for _ in 0..<100 {
            do {
                let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
                return String(decoding: data, as: UTF8.self)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw HarnessFailure("GET \(url) failed: \(String(describing: lastError))")
    }
}
