import Foundation
import Hounsfield
@testable import HounsfieldDaemon
import Logging
import ServiceLifecycle
import Testing

/// The intake feeds quiet series and stable folders to the pipeline, and acknowledges only what is published: late
/// instances make a version beside the first, a folder with nothing to process goes to failed/ with its reason.
@Suite("Daemon intake: spool and watch folder into the pipeline", .timeLimit(.minutes(5)))
struct IntakeServiceTests {
    static func folder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(name)-\(UUID().uuidString.prefix(8))")
    }

    static func configuration(output: URL) -> RunConfiguration {
        var configuration = RunConfiguration()
        configuration.output.folder = output.path
        configuration.preprocessing.spacing = [2]
        return configuration
    }

    /// A synthetic 8-slice series written under `root`, its files in order, and an empty spool and output beside it.
    static func spooledSeries(in root: URL, seed: UInt64) throws -> (files: [String], spool: Spool, output: URL) {
        let source = root.appendingPathComponent("series")
        try SyntheticSeries(size: 32, slices: 8, spacing: Vector3(0.8, 0.8, 2), seed: seed).write(to: source.path)
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).sorted().map { source.appendingPathComponent($0).path }
        let spool = try Spool(folder: root.appendingPathComponent("spool"), minimumFreeBytes: 0)
        return (files, spool, root.appendingPathComponent("out"))
    }

    /// Puts `file` into `spool` as the receiver would.
    static func spoolFile(_ file: String, into spool: Spool) async throws -> IntakeOutcome {
        try spool.accept(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: file))), as: try await identity(of: file))
    }

    /// Reads the identity of a synthetic instance the way the receiver does (its header).
    static func identity(of file: String) async throws -> InstanceIdentity {
        let scan = try await SeriesScanner().scan([file])
        let series = try #require(scan.series.first)
        let image = try #require(series.images.first)
        return InstanceIdentity(study: try #require(series.studyInstanceUID), series: series.seriesInstanceUID,
                                instance: try #require(image.sopInstanceUID), sopClass: "1.2.840.10008.5.1.4.1.1.2")
    }

    static func manifestKeys(_ output: URL) -> [String] {
        let text = (try? String(contentsOf: output.appendingPathComponent("manifest.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["key"] as? String
        }.sorted()
    }

    static func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
        for _ in 0..<1200 {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        if try condition() { return }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    @Test("a series is processed once quiet and marked processed; an instance after that makes version 2 beside version 1")
    func versions() async throws {
        let root = Self.folder("versions")
        defer { try? FileManager.default.removeItem(at: root) }
        let (files, spool, output) = try Self.spooledSeries(in: root, seed: 5)
        var settings = IntakeSettings()
        settings.quietPeriod = .milliseconds(300)
        settings.incompleteWait = .zero  // the first version lacks its last slice: processed at once
        settings.pollEvery = .milliseconds(100)
        // Every instance but the last is in the spool before the service starts: how fast this test task runs
        // cannot split the first version.
        for file in files.dropLast() { _ = try await Self.spoolFile(file, into: spool) }
        let intake = try IntakeService(configuration: Self.configuration(output: output), spool: spool, watch: nil, settings: settings)
        let group = ServiceGroup(services: [intake], logger: Logger(label: "test"))
        async let running: Void = group.run()

        try await Self.waitUntil("version 1") { try Self.manifestKeys(output).count == 1 && spool.pendingSeries().isEmpty }
        let first = try #require(Self.manifestKeys(output).first)

        let late = try #require(files.last)
        guard case .stored(let held) = try await Self.spoolFile(late, into: spool) else {
            Issue.record("the late instance was not stored")
            return
        }
        #expect(held.seriesVersion == 2)
        // Published first, then recorded as processed: wait for both.
        try await Self.waitUntil("version 2") { try Self.manifestKeys(output).count == 2 && spool.pendingSeries().isEmpty }
        #expect(Self.manifestKeys(output) == [first, first + "-v2"])
        let pending = try spool.pendingSeries()
        #expect(pending.isEmpty)
        let result = try #require(try spool.result(study: held.identity.studyInstanceUID, series: held.identity.seriesInstanceUID))
        #expect(result.contains("\"result\":\"processed\""))

        await group.triggerGracefulShutdown()
        try await running
    }

    @Test("a series with a gap waits for its missing instance, then is processed with an incomplete warning in its manifest line")
    func incompleteSeries() async throws {
        let root = Self.folder("incomplete")
        defer { try? FileManager.default.removeItem(at: root) }
        let (files, spool, output) = try Self.spooledSeries(in: root, seed: 7)
        var settings = IntakeSettings()
        settings.quietPeriod = .milliseconds(200)
        settings.incompleteWait = .milliseconds(1500)
        settings.pollEvery = .milliseconds(100)
        // The fourth slice never comes: a gap in the positions and in the InstanceNumbers.
        for (index, file) in files.enumerated() where index != 3 { _ = try await Self.spoolFile(file, into: spool) }
        let accepted = Date()
        let intake = try IntakeService(configuration: Self.configuration(output: output), spool: spool, watch: nil, settings: settings)
        let group = ServiceGroup(services: [intake], logger: Logger(label: "test"))
        async let running: Void = group.run()

        try await Self.waitUntil("the incomplete series") { try Self.manifestKeys(output).count == 1 && spool.pendingSeries().isEmpty }
        // Quiet after 0.2 s, but held until 1.5 s after its last instance.
        #expect(Date().timeIntervalSince(accepted) >= 1.4)
        let line = try String(contentsOf: output.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let warnings = entry["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.hasPrefix("processed with instances missing") && $0.contains("1.5 s") }, "\(warnings)")

        await group.triggerGracefulShutdown()
        try await running
    }

    @Test("a watched study is moved to done/ once published; a folder with no series goes to failed/ with the reason")
    func watchedStudies() async throws {
        let root = Self.folder("watch")
        defer { try? FileManager.default.removeItem(at: root) }
        let inbox = root.appendingPathComponent("inbox")
        var watch = WatchFolder(folder: inbox)
        watch.stableFor = .milliseconds(300)
        watch.pollEvery = .milliseconds(100)
        let output = root.appendingPathComponent("out")
        let intake = try IntakeService(configuration: Self.configuration(output: output), spool: nil, watch: watch)
        let group = ServiceGroup(services: [intake], logger: Logger(label: "test"))
        async let running: Void = group.run()

        try SyntheticSeries(size: 32, slices: 6, spacing: Vector3(0.8, 0.8, 2), seed: 6).write(to: inbox.appendingPathComponent("good").path)
        let bad = inbox.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try Data("not DICOM".utf8).write(to: bad.appendingPathComponent("notes.txt"))

        try await Self.waitUntil("both folders moved out") {
            FileManager.default.fileExists(atPath: watch.doneFolder.appendingPathComponent("good").path)
                && FileManager.default.fileExists(atPath: watch.failedFolder.appendingPathComponent("bad").path)
        }
        #expect(Self.manifestKeys(output).count == 1)
        let reason = try String(contentsOf: watch.failedFolder.appendingPathComponent("bad.reason.txt"), encoding: .utf8)
        #expect(!reason.isEmpty)
        await group.triggerGracefulShutdown()
        try await running
    }

    @Test("the serve section: unknown keys refused with their path; a spool inside the output refused; defaults filled in")
    func plan() throws {
        #expect(throws: ConfigurationError.unknownKey(path: "serve.dicom.prot",
                                                      known: ["ae_title", "allowed_calling_ae_titles", "association_timeout_seconds", "host",
                                                              "idle_timeout_seconds", "max_associations", "max_pdu", "port"])) {
            try ServeSettings.decode(Data(#"{"dicom": {"prot": 104}}"#.utf8))
        }
        var settings = try ServeSettings.decode(Data(#"{"dicom": {"port": 104, "allowed_calling_ae_titles": ["PACS"]}, "quiet_seconds": 5}"#.utf8))
        var configuration = RunConfiguration()
        configuration.output.folder = "/data/out"
        let plan = try DaemonPlan(configuration: configuration, settings: settings)
        #expect(plan.receiver?.port == 104 && plan.receiver?.aeTitle == "HOUNSFIELD")
        #expect(plan.receiver?.allowedCallingAETitles == ["PACS"])
        #expect(plan.intake.quietPeriod == .seconds(5))
        #expect(plan.spoolFolder.path == "/data/out.spool")
        #expect(plan.intake.retention == nil)
        let retained = try ServeSettings.decode(Data(#"{"spool": {"retain_hours": 1.5}, "http": {"studies": false}}"#.utf8))
        let retainedPlan = try DaemonPlan(configuration: configuration, settings: retained)
        #expect(retainedPlan.intake.retention == .seconds(5400))
        #expect(retainedPlan.httpOptions?.servesStudies == false)
        var unretained = retained
        unretained.spool.retainHours = 0
        #expect(throws: ConfigurationError.invalid(path: "serve.spool.retain_hours", reason: "must be positive (leave it out to keep every instance)")) {
            try DaemonPlan(configuration: configuration, settings: unretained)
        }
        settings.spool.folder = "/data/out/spool"
        #expect(throws: ConfigurationError.self) { try DaemonPlan(configuration: configuration, settings: settings) }
        #expect(throws: ConfigurationError.self) { try DaemonPlan(configuration: configuration, settings: ServeSettings()) }
    }
}
