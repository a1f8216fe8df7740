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

    /// Starts a service group's graceful shutdown from a synchronous callback, once.
    final class Shutdown: Sendable {
        private let state = Mutex<(group: ServiceGroup?, triggered: Bool)>((nil, false))
        var group: ServiceGroup? {
            get { state.withLock { $0.group } }
            set { state.withLock { $0.group = newValue } }
        }
        func trigger() {
            guard let group = state.withLock({ state -> ServiceGroup? in
                defer { state.triggered = true }
                return state.triggered ? nil : state.group
            }) else { return }
            Task { await group.triggerGracefulShutdown() }
        }
    }

    @Test("a source that yields studies over time: each is written and published as it comes, while the source is still open")
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
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            // The source: a study, then a pause until that study's shard is published (the service has gone quiet
            // and made it durable), then the next. It ends only after the last one is published: nothing waits for
            // the end of the input.
            var events = service.events.makeAsyncIterator()
            for index in 0..<3 {
                continuation.yield(WorkItem(id: "study-\(index)", source: .paths([inputs.appendingPathComponent("series-\(index)").path])))
                var published = false
                while !published, let event = await events.next() {
                    log.append(event)
                    if case .published = event { published = true }
                }
                #expect(published, "study-\(index) published while the source is open")
                try await Task.sleep(for: .milliseconds(300))
            }
            continuation.finish()
            while let event = await events.next() { log.append(event) }
            try await group.waitForAll()
        }
        var order: [String] = []
        for (_, event) in log.all {
            switch event {
            case .outcome(let outcome) where outcome.report.status == .written: order.append("written \(outcome.item)")
            case .itemFinished(let item): order.append("finished \(item)")
            case .published(let publication): order.append("published \(publication.keys.count)")
            default: break
            }
        }
        #expect(order == (0..<3).flatMap { ["written study-\($0)", "finished study-\($0)", "published 1"] })
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
        try PipelineTestSupport.series(12, in: inputs, size: 96, slices: 40)
        let output = root.appendingPathComponent("out")
        let batch = try BatchRun(configuration: PipelineTestSupport.configuration(inputs: [inputs], output: output))
        // The shutdown begins as the first series is written, from the pipeline's own callback, so the test does
        // not depend on how fast this machine is.
        let shutdown = Shutdown()
        var observed = batch
        observed.progress = { progress in if progress.done == 1 { shutdown.trigger() } }
        let service = BatchRunService(observed)
        let group = ServiceGroup(services: [service], logger: .init(label: "test"))
        shutdown.group = group
        try await group.run()
        guard case .success(let report) = try #require(service.result) else { Issue.record("the run did not report"); return }
        #expect(report.cancelled)
        let written = report.series.filter { $0.status == .written }.count
        #expect(written >= 1 && written < 12, "\(written) written before the shutdown")
        #expect(written + (report.counts["cancelled"] ?? 0) == 12)
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(!files.contains { $0.hasSuffix(".partial") }, "the open shard was published, not left half-written")
        #expect(OutputFolder(output).manifestEntries().entries.count == written)
        #expect(ManifestVerification(folder: output).run().isClean)
        // A resume does the rest.
        var resumed = PipelineTestSupport.configuration(inputs: [inputs], output: output)
        resumed.execution.resume = true
        let rest = try await BatchRun(configuration: resumed).run()
        #expect(rest.counts["written"] == 12 - written && rest.counts["resumed"] == written)
    }
}
