import Foundation
import Hounsfield
import HounsfieldTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `hounsfield serve` process for one test, with its folders, and the real DICOM tools (DCMTK's storescu and
/// echoscu) that talk to it. Every wait is bounded; waits poll files, so a starved test task only waits longer,
/// never misses an event.
final class ServeHarness: Sendable {
    let root: URL
    var output: URL { root.appendingPathComponent("out") }
    var spool: URL { root.appendingPathComponent("spool") }
    var logs: URL { root.appendingPathComponent("logs") }

    init(_ label: String = #function) throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("serve-\(label.prefix { $0.isLetter })-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("logs"), withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// The processing every test uses, for the daemon and for the batch run it is compared with.
    static let processing = ["--spacing", "2"]

    /// Writes a synthetic series into `name` under the test's folder.
    func series(_ name: String, syntax: SyntheticTransferSyntax = .explicit, size: Int = 48, slices: Int = 10,
                seed: UInt64) throws -> URL {
        let folder = root.appendingPathComponent(name)
        try SyntheticSeries(size: size, slices: slices, spacing: Vector3(0.8, 0.8, 2), syntax: syntax, seed: seed)
            .write(to: folder.path)
        return folder
    }

    /// Starts the daemon with a DICOM receiver on a free loopback port; `extra` adds flags.
    func start(_ extra: [String] = [], quietSeconds: Double = 1) throws -> Daemon {
        let tool = try #require(ChildProcess.executable, "build hounsfield first (scripts/test.sh does)")
        let arguments = ["serve", "--output", output.path, "--spool", spool.path, "--dicom-port", "0",
                         "--dicom-host", "127.0.0.1", "--quiet-seconds", "\(quietSeconds)", "--log-level", "info"]
            + Self.processing + extra
        let started = try ChildProcess.start(tool, arguments, in: logs, environment: ["SWIFT_BACKTRACE": "enable=no"])
        return Daemon(process: started.0, standardError: started.2)
    }

    /// A running `hounsfield serve`.
    struct Daemon: @unchecked Sendable {  // Process is a class whose methods used here are thread-safe (Foundation).
        let process: Process
        let standardError: URL

        var log: String { (try? String(contentsOf: standardError, encoding: .utf8)) ?? "" }

        /// Waits for the "ready" line and returns the DICOM port it names.
        func ready(within timeout: Duration = .seconds(120)) async throws -> Int {
            let deadline = ContinuousClock.now + timeout
            // Looked at once more after the deadline: a test task starved past it must not miss a line written on time.
            var last = false
            while !last {
                last = ContinuousClock.now >= deadline || !process.isRunning
                if let line = log.split(separator: "\n").first(where: { $0.contains("] ready") || $0.hasSuffix(" ready") }),
                   let range = line.range(of: #"dicom=127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    return Int(line[range].split(separator: ":").last!)!
                }
                if !last { try await Task.sleep(for: .milliseconds(50)) }
            }
            Issue.record("the daemon did not get ready; its log:\n\(log)")
            throw CancellationError()
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits for the process to end; returns its status (SIGKILLs it and fails after `timeout`).
        func exit(within timeout: Duration) async throws -> Int32 {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                Issue.record("the daemon did not exit within \(timeout); its log:\n\(log)")
                return -1
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Runs DCMTK's storescu verbosely; returns its log (one "Sending file" / "Received Store Response" pair per
    /// instance).
    func storescu(_ port: Int, _ folder: URL, proposing syntax: String? = nil, callingAE: String = "STORESCU",
                  timeout: Duration = .seconds(180)) async throws -> ChildProcess.Finished {
        try await ChildProcess.run("/usr/bin/storescu", storescuArguments(port, folder, proposing: syntax, callingAE: callingAE),
                                   logs: logs, timeout: timeout)
    }

    func storescuArguments(_ port: Int, _ folder: URL, proposing syntax: String? = nil, callingAE: String = "STORESCU") -> [String] {
        ["-v", "-aet", callingAE, "-aec", "HOUNSFIELD", "+sd"] + (syntax.map { [$0] } ?? []) + ["127.0.0.1", "\(port)", folder.path]
    }

    /// The files storescu was told success for, from its verbose log.
    static func acknowledged(in log: String) -> [String] {
        var current: String?
        var files: [String] = []
        for line in log.split(separator: "\n") {
            if let range = line.range(of: "Sending file: ") { current = String(line[range.upperBound...]) }
            if line.contains("Received Store Response (Success)"), let file = current { files.append(file) }
        }
        return files
    }

    /// The manifest's entries, by key.
    func manifest(of folder: URL? = nil) -> [String: ManifestEntry] {
        let file = (folder ?? output).appendingPathComponent("manifest.jsonl")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        var entries: [String: ManifestEntry] = [:]
        for line in text.split(separator: "\n") {
            if let entry = try? JSONDecoder().decode(ManifestEntry.self, from: Data(line.utf8)) { entries[entry.key] = entry }
        }
        return entries
    }

    /// Waits until the manifest lists `count` volumes.
    func waitForVolumes(_ count: Int, within timeout: Duration = .seconds(90), daemon: Daemon) async throws -> [String: ManifestEntry] {
        try await waitForManifest("\(count) volumes", within: timeout, daemon: daemon) { $0.count >= count }
    }

    /// Waits until the manifest satisfies `condition` (described by `what` when it does not in time).
    func waitForManifest(
        _ what: String, within timeout: Duration = .seconds(90), daemon: Daemon,
        until condition: ([String: ManifestEntry]) -> Bool
    ) async throws -> [String: ManifestEntry] {
        let deadline = ContinuousClock.now + timeout
        var last = false
        while !last {
            last = ContinuousClock.now >= deadline
            let entries = manifest()
            if condition(entries) { return entries }
            if !last { try await Task.sleep(for: .milliseconds(100)) }
        }
        Issue.record("the manifest (\(manifest().keys.sorted())) has not \(what) after \(timeout); the daemon's log:\n\(daemon.log)")
        throw CancellationError()
    }

    /// What `hounsfield run` writes for these folders with the same processing: the reference.
    func batch(_ folders: [URL]) async throws -> [String: ManifestEntry] {
        let tool = try #require(ChildProcess.executable)
        let reference = root.appendingPathComponent("batch")
        let finished = try await ChildProcess.run(tool, ["run", "--output", reference.path] + Self.processing + folders.map(\.path),
                                                  logs: logs)
        #expect(finished.status == 0, "hounsfield run: \(finished.standardError)")
        return manifest(of: reference)
    }

    /// The spool path of every instance in `files` (by its SOP Instance UID), as the spool names them.
    func spoolPaths(of files: [String]) async throws -> [String: String] {
        let scan = try await SeriesScanner().scan(files)
        var paths: [String: String] = [:]
        for series in scan.series {
            for image in series.images {
                guard let sop = image.sopInstanceUID, let study = series.studyInstanceUID else { continue }
                paths[image.source.name] = spool.appendingPathComponent("instances/\(study)/\(series.seriesInstanceUID)/\(sop).dcm").path
            }
        }
        return paths
    }
}
