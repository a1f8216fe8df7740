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
        let source = root.appendingPathComponent("series")
        try SyntheticSeries(size: 32, slices: 8, spacing: Vector3(0.8, 0.8, 2), seed: 5).write(to: source.path)
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).sorted().map { source.appendingPathComponent($0).path }
        let spool = try Spool(folder: root.appendingPathComponent("spool"), minimumFreeBytes: 0)
        let output = root.appendingPathComponent("out")
        var settings = IntakeSettings()
        settings.quietPeriod = .milliseconds(300)
        settings.incompleteWait = .zero  // the first version lacks its last slice: processed at once
        settings.pollEvery = .milliseconds(100)
        // Every instance but the last is in the spool before the service starts: how fast this test task runs
        // cannot split the first version.
        for file in files.dropLast() {
            _ = try spool.accept(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: file))), as: try await Self.identity(of: file))
        }
        let intake = try IntakeService(configuration: Self.configuration(output: output), spool: spool, watch: nil, settings: settings)
        let group = ServiceGroup(services: [intake], logger: Logger(label: "test"))
        async let running: Void = group.run()

        try await Self.waitUntil("version 1") { try Self.manifestKeys(output).count == 1 && spool.pendingSeries().isEmpty }
        let first = try #require(Self.manifestKeys(output).first)

        let late = try #require(files.last)
        guard case .stored(let held) = try spool.accept(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: late))),
                                                         as: try await Self.identity(of: late)) else {
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
        settings.spool.folder = "/data/out/spool"
        #expect(throws: ConfigurationError.self) { try DaemonPlan(configuration: configuration, settings: settings) }
        #expect(throws: ConfigurationError.self) { try DaemonPlan(configuration: configuration, settings: ServeSettings()) }
    }
}
