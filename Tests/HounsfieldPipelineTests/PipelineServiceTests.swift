import Foundation
import Hounsfield
import HounsfieldHDF5
import ServiceLifecycle
import Synchronization
import Testing

@Suite("PipelineService: any source, events as work happens, graceful shutdown")
struct PipelineServiceTests {
    /// Events with the time they arrived.
    final class EventLog: Sendable {
        private let events = Mutex<[(ContinuousClock.Instant, PipelineEvent)]>([])
        func append(_ event: PipelineEvent) { events.withLock { $0.append((.now, event)) } }
        var all: [(ContinuousClock.Instant, PipelineEvent)] { events.withLock { $0 } }
    }

    /// Instants, appended from any task.
    final class Instants: Sendable {
        private let values = Mutex<[ContinuousClock.Instant]>([])
        func append(_ value: ContinuousClock.Instant) { values.withLock { $0.append(value) } }
        var all: [ContinuousClock.Instant] { values.withLock { $0 } }
    }

    /// A flag set from any task.
    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    @Test("a source that yields studies over time: each is written and published as it comes, before the next arrives")
    func itemsOverTime() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(3, in: inputs)
        let output = root.appendingPathComponent("out")
        let configuration = PipelineTestSupport.configuration(inputs: [], output: output)
        let (items, continuation) = AsyncStream<WorkItem>.makeStream()
        let service = try PipelineService(configuration: configuration, input: items, publishWhenIdle: .milliseconds(200))
        let log = EventLog()
        let yielded = Instants()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            group.addTask {
                // A study every 1.5 s, then the source ends.
                for index in 0..<3 {
                    yielded.append(.now)
                    continuation.yield(WorkItem(id: "study-\(index)", source: .paths([inputs.appendingPathComponent("series-\(index)").path])))
                    try await Task.sleep(for: .milliseconds(1500))
                }
                continuation.finish()
            }
            for await event in service.events { log.append(event) }
            try await group.waitForAll()
        }
        let times = yielded.all
        let events = log.all
        for index in 0..<3 {
            let item = "study-\(index)"
            let finished = try #require(events.first { if case .itemFinished(item) = $0.1 { true } else { false } })
            let written = events.compactMap { entry -> String? in
                if case .outcome(let outcome) = entry.1, outcome.item == item, outcome.report.status == .written { outcome.report.key } else { nil }
            }
            #expect(written.count == 1, "\(item): one series written")
            let published = try #require(events.first { entry in
                if case .published(let publication) = entry.1 { publication.keys.contains(written[0]) } else { false }
            }, "\(item): its shard is published while the source is quiet")
            if index < 2 {
                #expect(finished.0 < times[index + 1], "\(item) finished before the next study arrived")
                #expect(published.0 < times[index + 1], "\(item) published before the next study arrived")
            }
        }
        #expect(OutputFolder(output).manifestEntries().entries.count == 3)
        #expect(ManifestVerification(folder: output).run().isClean)
    }

    @Test("in-memory buffers through the service give the bytes of the batch run and of the per-study API")
    func buffersEqualBatch() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(1, in: inputs)
        let batchOutput = root.appendingPathComponent("batch")
        _ = try await BatchRun(configuration: PipelineTestSupport.configuration(inputs: [inputs], output: batchOutput)).run()
        let series0 = inputs.appendingPathComponent("series-0")
        let buffers = try FileManager.default.contentsOfDirectory(atPath: series0.path).map { name in
            (name: name, bytes: [UInt8](try Data(contentsOf: series0.appendingPathComponent(name))))
        }
        let serviceOutput = root.appendingPathComponent("service")
        let (items, continuation) = AsyncStream<WorkItem>.makeStream()
        continuation.yield(WorkItem(id: "upload", source: .buffers(buffers)))
        continuation.finish()
        let service = try PipelineService(
            configuration: PipelineTestSupport.configuration(inputs: [], output: serviceOutput), input: items)
        async let ran: Void = service.run()
        var checksums: [String: String] = [:]
        for await event in service.events {
            if case .outcome(let outcome) = event, let checksum = outcome.checksum { checksums[outcome.report.key] = checksum }
        }
        try await ran
        let batch = PipelineTestSupport.contents(of: batchOutput)
        #expect(PipelineTestSupport.contents(of: serviceOutput) == batch)
        #expect(checksums == batch, "the written events carry the manifest's checksums")
        let perStudy = try await Preprocessor(configuration: PipelineTestSupport.configuration(inputs: [], output: nil))
            .process(buffers: buffers)
        #expect(Dictionary(uniqueKeysWithValues: perStudy.map { ($0.key, $0.image.checksum) }) == batch)
    }

    @Test("graceful shutdown mid-run: series not started are cancelled, the open shard is published, nothing is half-written")
    func gracefulShutdown() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(8, in: inputs, size: 96, slices: 40)
        let output = root.appendingPathComponent("out")
        let batch = try BatchRun(configuration: PipelineTestSupport.configuration(inputs: [inputs], output: output))
        let firstWritten = Flag()
        var observed = batch
        observed.progress = { progress in if progress.done >= 1 { firstWritten.set() } }
        let service = BatchRunService(observed)
        let group = ServiceGroup(services: [service], logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(120)
            while !firstWritten.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        guard case .success(let report) = try #require(service.result) else { Issue.record("the run did not report"); return }
        #expect(report.cancelled)
        let written = report.series.filter { $0.status == .written }.count
        #expect(written >= 1 && written < 8, "\(written) written before the shutdown")
        #expect(written + (report.counts["cancelled"] ?? 0) == 8)
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(!files.contains { $0.hasSuffix(".partial") }, "the open shard was published, not left half-written")
        #expect(OutputFolder(output).manifestEntries().entries.count == written)
        #expect(ManifestVerification(folder: output).run().isClean)
        // A resume does the rest.
        var resumed = PipelineTestSupport.configuration(inputs: [inputs], output: output)
        resumed.execution.resume = true
        let rest = try await BatchRun(configuration: resumed).run()
        #expect(rest.counts["written"] == 8 - written && rest.counts["resumed"] == written)
    }
}
