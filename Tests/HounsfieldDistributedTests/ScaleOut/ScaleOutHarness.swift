import Foundation
import Hounsfield
import HounsfieldDistributed
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real `hounsfield coordinator` and `hounsfield worker` processes on loopback, over a synthetic archive: what the
/// scale-out tests start, supervise, hurt and check.
///
/// Every wait is bounded; every process the harness started is killed when the test ends, whatever happened.
final class ScaleOutHarness: @unchecked Sendable {
    // @unchecked: the harness is used by one test task at a time; its mutable state (the process list) is only
    // touched from that task, and `Process` objects are not shared with other tasks.
    let root: URL
    let archive: URL
    let output: URL
    let binary: String
    let leaseTTL: Int
    private(set) var processes: [String: (Process, URL, URL)] = [:]
    private var coordinatorArguments: [String] = []
    private var restarts: [String: Int] = [:]

    /// The job every test runs: small, so a unit takes a fraction of a second.
    static let job = ["--spacing", "2", "--window", "40,400", "--normalize", "minmax", "--salt", "scale-out-test", "--jobs", "1"]

    /// `large` studies are 256×256×48 instead of tens of pixels: seconds of work in a debug build, so a worker
    /// can be caught in the middle of one. The lease TTL is generous (15 s, heartbeats every 5 s): the suite runs
    /// in parallel on two cores, and a worker starved of CPU past its TTL is, correctly, a casualty, which would
    /// make a test's expected quarantine set wrong.
    init(studies: Int, poison: Set<Int> = [], large: Set<Int> = [], leaseTTL: Int = 15) throws {
        binary = try #require(ChildProcess.executable, "build hounsfield first (swift build)")
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hf-scaleout-\(UUID().uuidString.prefix(8))")
        archive = root.appendingPathComponent("archive")
        output = root.appendingPathComponent("output")
        self.leaseTTL = leaseTTL
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        for index in 0..<studies {
            let name = poison.contains(index) ? "study-\(index)-poison" : "study-\(index)"
            // Sizes differ so that largest-first leasing has an order to follow.
            let big = large.contains(index)
            _ = try SyntheticSeries(size: big ? 256 : 32 + 8 * (index % 4), slices: big ? 48 : 8 + index % 5,
                                    spacing: Vector3(1, 1, 2), seed: UInt64(index + 1))
                .write(to: archive.appendingPathComponent(name).appendingPathComponent("series").path)
        }
    }

    deinit { stopAll() }

    /// Starts the coordinator on a free port of `host` (inside network namespace `namespace`, when given) and waits
    /// for its address.
    func startCoordinator(extra: [String] = [], host: String = "127.0.0.1", namespace: String? = nil) async throws -> String {
        coordinatorArguments = Self.inside(namespace, binary) + [
            "coordinator", archive.path, "--output", output.path, "--listen", "\(host):0",
            "--lease-ttl", "\(leaseTTL)", "--log-level", "info"] + Self.job + extra
        return try await restartCoordinator()
    }

    /// Starts the coordinator again with the arguments of the last start.
    func restartCoordinator() async throws -> String {
        try? FileManager.default.removeItem(at: addressFile)
        processes["coordinator"] = try ChildProcess.start(
            coordinatorArguments[0], Array(coordinatorArguments.dropFirst()), in: root)
        return try await coordinatorAddress()
    }

    /// The command line that runs `tool` inside a network namespace (`ip netns exec`, which execs: the pid is the
    /// tool's), or `tool` itself.
    static func inside(_ namespace: String?, _ tool: String) -> [String] {
        namespace.map { ["/usr/sbin/ip", "netns", "exec", $0, tool] } ?? [tool]
    }

    var addressFile: URL { output.appendingPathComponent(".hounsfield/coordinator.address") }

    private func coordinatorAddress() async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: addressFile, encoding: .utf8), !text.isEmpty {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let coordinator = processes["coordinator"]?.0, !coordinator.isRunning {
                throw HarnessFailure("the coordinator exited with \(coordinator.terminationStatus) before listening: \(log("coordinator"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessFailure("the coordinator did not listen within 120 s")
    }

    /// Starts a worker named `name` against `address`.
    func startWorker(_ name: String, address: String, token: String? = nil, poison: Bool = true,
                     namespace: String? = nil, extra: [String] = []) throws {
        var environment: [String: String] = [:]
        if poison {
            environment["HOUNSFIELD_FAULT_ABORT_ON"] = "poison"
            // A worker the poison aborts dies at once, as a crashed pod does, instead of spending seconds (on a
            // loaded machine, tens) in Swift's backtracer with its connection still open.
            environment["SWIFT_BACKTRACE"] = "enable=no"
        }
        if let token { environment["HOUNSFIELD_TOKEN"] = token }
        let command = Self.inside(namespace, binary)
        processes[name] = try ChildProcess.start(
            command[0], Array(command.dropFirst()) + ["worker", "--coordinator", address, "--name", name, "--log-level", "info"] + extra,
            in: root, environment: environment)
    }

    func process(_ name: String) -> Process? { processes[name]?.0 }

    func signal(_ name: String, _ signal: Int32) {
        if let process = process(name), process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Restarts every worker that died (as an Indexed Job restarts a failed pod, with the same name), at most
    /// `limit` times each. Returns how many were restarted.
    @discardableResult
    func restartDeadWorkers(address: String, limit: Int = 6) throws -> Int {
        var restarted = 0
        for (name, started) in processes where name != "coordinator" && !started.0.isRunning
            && started.0.terminationReason == .uncaughtSignal && restarts[name, default: 0] < limit {
            restarts[name, default: 0] += 1
            try startWorker(name, address: address)
            restarted += 1
        }
        return restarted
    }

    /// Waits for the coordinator to exit, restarting crashed workers meanwhile; fails after `timeout`.
    func waitForCoordinator(address: String, timeout: Duration = .seconds(300)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while let coordinator = process("coordinator"), coordinator.isRunning {
            guard ContinuousClock.now < deadline else {
                throw HarnessFailure("the coordinator did not finish within \(timeout): \(log("coordinator").suffix(3000))")
            }
            try restartDeadWorkers(address: address)
            try await Task.sleep(for: .milliseconds(100))
        }
        return process("coordinator")!.terminationStatus
    }

    /// Waits for a process to exit (at most `timeout`) and returns its status.
    func waitForExit(_ name: String, timeout: Duration = .seconds(120)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while let process = process(name), process.isRunning {
            guard ContinuousClock.now < deadline else { throw HarnessFailure("\(name) did not exit within \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process(name)!.terminationStatus
    }

    /// Polls the journal until `condition` holds (at most `timeout`).
    func waitForJournal(timeout: Duration = .seconds(120), _ condition: (Journal) throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError = "none"
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: journalPath) {
                do {
                    let journal = try Journal(path: journalPath)
                    defer { try? journal.close() }
                    if try condition(journal) { return }
                } catch {
                    lastError = "\(error)"
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let logs = processes.keys.sorted().map { "--- \($0) (running: \(process($0)?.isRunning == true)):\n\(log($0).suffix(1500))" }
        throw HarnessFailure("the journal did not reach the expected state within \(timeout); last error: \(lastError)\n\(logs.joined(separator: "\n"))")
    }

    /// What `read` finds in the journal now; nil when the journal cannot be read yet (not created, or locked past
    /// its busy timeout). Never suspends, so a paced process stays stopped while it runs.
    func journalValue<T>(_ read: (Journal) throws -> T) -> T? {
        guard FileManager.default.fileExists(atPath: journalPath), let journal = try? Journal(path: journalPath) else {
            return nil
        }
        defer { try? journal.close() }
        return try? read(journal)
    }

    /// Polls a process's standard error until it contains one of `texts` (at most `timeout`).
    func waitForLog(_ name: String, containing texts: String..., timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !texts.contains(where: log(name).contains) {
            guard ContinuousClock.now < deadline else {
                throw HarnessFailure("\(name) did not log any of \(texts) within \(timeout): \(log(name).suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var journalPath: String { output.appendingPathComponent(".hounsfield/journal.sqlite").path }

    /// What a process wrote to standard error so far.
    func log(_ name: String) -> String {
        guard let started = processes[name] else { return "" }
        return (try? String(contentsOf: started.2, encoding: .utf8)) ?? ""
    }

    /// Kills every process still running, and waits at most two seconds for them to be gone. Never
    /// `waitUntilExit`: it spins Foundation's run loop on the calling thread, a thread of the cooperative pool here,
    /// and was seen spinning for good after a kill, which starved every other test of the parallel suite.
    func stopAll() {
        let running = processes.values.map(\.0).filter(\.isRunning)
        for process in running {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
        }
        for _ in 0..<200 where running.contains(where: \.isRunning) { usleep(10_000) }
    }

    func remove() {
        stopAll()
        try? FileManager.default.removeItem(at: root)
    }

    // MARK: - Invariants

    /// The final manifest's lines, in order.
    func manifest() throws -> [(key: String, shard: String, checksum: String)] {
        let text = try String(contentsOf: output.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (object["key"] as! String, object["shard"] as! String, object["checksum"] as! String)
        }
    }

    /// key → checksum from a single-process `hounsfield run` of the same archive and job (minus the poison).
    func singleProcessChecksums(excluding poison: Set<String> = []) async throws -> [String: String] {
        let reference = root.appendingPathComponent("reference")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: archive.path).sorted()
            .filter { name in !poison.contains(where: { name.contains($0) }) }
            .map { archive.appendingPathComponent($0).path }
        let finished = try await ChildProcess.run(
            binary, ["run"] + inputs + ["--output", reference.path] + Self.job, logs: root, timeout: .seconds(300))
        guard finished.status == 0 else { throw HarnessFailure("the reference run failed: \(finished.standardError)") }
        return Dictionary(uniqueKeysWithValues: OutputFolder(reference).manifestEntries().entries.map { ($0.key, $0.checksum) })
    }

    /// The checks every test ends with: each key once in the manifest, with the single-process checksums; no unit
    /// attempted more than the journal allows; the quarantined folders are exactly the poisoned ones; every other
    /// unit done.
    func checkInvariants(poisoned: Set<String> = []) async throws {
        let lines = try manifest()
        let keys = lines.map(\.key)
        #expect(Set(keys).count == keys.count, "a key is listed twice in manifest.jsonl")
        let reference = try await singleProcessChecksums(excluding: poisoned)
        #expect(Dictionary(lines.map { ($0.key, $0.checksum) }, uniquingKeysWith: { first, _ in first }) == reference)
        let journal = try Journal(path: journalPath)
        for unit in try journal.units() {
            #expect(try journal.attempts(of: unit.id).count <= journal.attemptLimit + 1)
        }
        let quarantined = Set(try journal.quarantined().map { URL(fileURLWithPath: $0.unit.path).lastPathComponent })
        #expect(quarantined == Set(poisoned.map { name in
            try! FileManager.default.contentsOfDirectory(atPath: archive.path).first { $0.contains(name) }!
        }))
        let counts = try journal.counts()
        #expect(counts.done == counts.total - poisoned.count)
        try journal.close()
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
