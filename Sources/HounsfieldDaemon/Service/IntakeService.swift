import Crypto
import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import HounsfieldPipeline
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Feeds what the daemon took in to one ``PipelineService`` — spooled series once they are quiet, watched study
/// folders once they are stable — and acknowledges each only when it is durable: a spooled series is marked
/// processed, a watched folder moved to `done/` (or `failed/`), once every volume it gave is in a published shard.
///
/// Whatever is not acknowledged when the daemon stops (SIGTERM, a crash, a full output disk) is still in the spool
/// or the watch folder, and the next start takes it again; the output's manifest turns what was already published
/// into a resume. A series with gaps (``SeriesCompleteness``) waits up to ``IntakeSettings/incompleteWait`` for
/// its missing instances. An instance that arrives after its series was processed opens the series' next version,
/// written under keys ending `-v2`, `-v3`, …, beside the earlier ones.
///
/// Every volume is published as soon as its item is done (``PipelineService``'s `publishesEachItem`): a study sent
/// to the daemon is in the output seconds after it went quiet, at the cost of more, smaller shards than a batch run
/// writes.
public final class IntakeService: Service, Sendable {
    /// The run's configuration (processing and output), as `hounsfield run` takes it.
    public let configuration: RunConfiguration
    /// Where the DICOM receiver leaves instances; nil when the daemon takes none.
    public let spool: Spool?
    /// The watched folder; nil when none is watched.
    public let watch: WatchFolder?
    /// When a received series is taken to processing.
    public let settings: IntakeSettings
    private let logger: Logger
    private let metrics = DaemonMetrics()
    private let queue = BoundedChannel<WorkItem>(capacity: 1)
    private let pipeline: PipelineService<BoundedChannel<WorkItem>>
    private let state = Mutex(State())
    private let stopping = CancellationFlag()

    /// What is in flight, shared by the feeding and acknowledging tasks.
    private struct State {
        var tracker = ItemTracker()
        var spooled: [String: SpooledSeries] = [:]
        var watched: [String: URL] = [:]
        /// Series found with gaps, by study/series: when their last instance came, and the gaps.
        var gaps: [String: (lastReceived: Date, gaps: String)] = [:]

        func isInFlight(_ series: SpooledSeries) -> Bool {
            spooled.values.contains { $0.studyInstanceUID == series.studyInstanceUID && $0.seriesInstanceUID == series.seriesInstanceUID }
        }
    }

    /// A service writing into `configuration.output.folder`; throws ``RunError/configuration(_:)`` for a
    /// configuration that cannot run. Nothing is read or written before ``run()``.
    public init(
        configuration: RunConfiguration, spool: Spool?, watch: WatchFolder?, settings: IntakeSettings = IntakeSettings(),
        logger: Logger = Logger(label: "hounsfield.daemon")
    ) throws(RunError) {
        self.configuration = configuration
        self.spool = spool
        self.watch = watch
        self.settings = settings
        self.logger = logger
        pipeline = try PipelineService(configuration: configuration, input: queue, logger: logger, publishesEachItem: true)
    }

    /// Runs until graceful shutdown: the pipeline finishes the series in flight and publishes them; what was not
    /// finished stays for the next start. Throws ``RunError/output(_:)`` when the output folder cannot be prepared
    /// or fails (a full disk): the daemon then stops, since nothing more it takes in could be made durable, and a
    /// restart (by its supervisor, once space is freed) takes up what the spool holds.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            async let acknowledged: Void = acknowledge()
            let feeders = Task {
                await withTaskGroup(of: Void.self) { group in
                    if let spool { group.addTask { await self.feed(from: spool) } }
                    if let watch { group.addTask { await self.feed(from: watch) } }
                }
            }
            var failure: (any Error)?
            do { try await pipeline.run() } catch { failure = error }
            // The pipeline ended (shutdown, or its output failed): nothing more is sent, every event is still read.
            stopping.set()
            queue.finish()
            feeders.cancel()
            await feeders.value
            await acknowledged
            if let failure { throw failure }
            if let output = pipeline.outputFailure {
                throw RunError.output("the output failed (\(output)); what was received stays in the spool for the next start")
            }
        } onGracefulShutdown: {
            // Sources stop sending; an item waiting in the queue is not taken, and stays for the next start.
            self.stopping.set()
            self.queue.finish()
        }
    }

    // MARK: - Feeding

    /// Sends quiet series from the spool, oldest first, until the queue is finished.
    private func feed(from spool: Spool) async {
        var measured = ContinuousClock.now - .seconds(60)
        var pruned = ContinuousClock.now - settings.pruneEvery
        while !stopping.isSet && !Task.isCancelled {
            let now = Date()
            do {
                let quiet = try spool.quietSeries(since: now.addingTimeInterval(-settings.quietPeriod.inSeconds))
                for series in quiet {
                    if state.withLock({ $0.isInFlight(series) }) { continue }
                    let files = try spool.files(of: series)
                    var warnings: [SeriesWarning] = []
                    if let gaps = await gaps(of: series, files: files) {
                        if now.timeIntervalSince(series.lastReceived) < settings.incompleteWait.inSeconds {
                            continue
                        }
                        logger.warning("processing an incomplete series: its missing instances did not come", metadata: [
                            "item": "\(Self.itemID(series))", "gaps": "\(gaps)"])
                        warnings.append(Self.incompleteWarning(gaps, waited: settings.incompleteWait))
                    }
                    let id = Self.itemID(series)
                    state.withLock { state in
                        state.tracker.track(id)
                        state.spooled[id] = series
                        state.gaps[series.studyInstanceUID + "/" + series.seriesInstanceUID] = nil
                    }
                    guard await queue.send(WorkItem(id: id, source: .paths(files), version: series.version, warnings: warnings), bytes: 0) else {
                        _ = state.withLock { $0.tracker.forget(id) }
                        return
                    }
                }
                if let retention = settings.retention, ContinuousClock.now - pruned >= settings.pruneEvery {
                    pruned = ContinuousClock.now
                    prune(spool, keeping: retention)
                }
                // The gauges every few seconds: the spool's size is a sum over every instance it holds.
                if ContinuousClock.now - measured > .seconds(5) {
                    measured = ContinuousClock.now
                    metrics.queueDepth.record(try spool.pendingSeries().count)
                    metrics.spoolBytes.record(try spool.heldBytes())
                }
            } catch {
                logger.error("cannot read the spool's journal; trying again", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.pollEvery)
        }
    }

    /// Applies the spool's retention: the instances of series processed more than `retention` ago go.
    private func prune(_ spool: Spool, keeping retention: Duration) {
        do {
            let pruning = try spool.prune(processedBefore: Date().addingTimeInterval(-retention.inSeconds))
            guard pruning.instances > 0 else { return }
            metrics.prunedInstances.increment(by: pruning.instances)
            logger.info("spool retention: deleted the instances of series processed long enough ago", metadata: [
                "instances": "\(pruning.instances)", "bytes": "\(pruning.bytes)"])
        } catch {
            logger.error("cannot apply the spool's retention; trying again later", metadata: ["error": "\(error)"])
        }
    }

    /// Sends each watched study folder as it becomes stable, until the queue is finished.
    private func feed(from watch: WatchFolder) async {
        for await study in watch.studies().cancelOnGracefulShutdown() {
            let id = "watch:" + study.lastPathComponent
            state.withLock { state in
                state.tracker.track(id)
                state.watched[id] = study
            }
            guard await queue.send(WorkItem(id: id, source: .paths([study.path])), bytes: 0) else {
                _ = state.withLock { $0.tracker.forget(id) }
                return
            }
        }
    }

    /// The gaps of a quiet series, read from its headers once per last-received time.
    private func gaps(of series: SpooledSeries, files: [String]) async -> String? {
        let key = series.studyInstanceUID + "/" + series.seriesInstanceUID
        if let known = state.withLock({ $0.gaps[key] }), known.lastReceived == series.lastReceived { return known.gaps }
        let scanner = SeriesScanner(options: ScanOptions(spacing: configuration.loading.spacing))
        guard let scan = try? await scanner.scan(files), let gaps = SeriesCompleteness.gaps(in: scan) else {
            state.withLock { _ = $0.gaps.removeValue(forKey: key) }
            return nil
        }
        state.withLock { $0.gaps[key] = (series.lastReceived, gaps) }
        return gaps
    }

    /// The warning an incomplete series' volumes carry into the report and the manifest.
    static func incompleteWarning(_ gaps: String, waited: Duration) -> SeriesWarning {
        let seconds = waited.inSeconds
        let spelled = seconds == seconds.rounded() ? "\(Int(seconds))" : String(format: "%.1f", seconds)
        return SeriesWarning(.incomplete, "processed with instances missing (\(gaps)); they did not come within "
            + "\(spelled) s of the last one. An instance that comes later makes the series' next version.")
    }

    /// The pipeline item of a spooled series version: its UIDs hashed (they identify a patient's study, and item
    /// identifiers reach logs), its version spelled out.
    static func itemID(_ series: SpooledSeries) -> String {
        let digest = SHA256.hash(data: Data((series.studyInstanceUID + "\u{0}" + series.seriesInstanceUID).utf8)).hex
        return "spool:\(digest.prefix(16))-v\(series.version)"
    }

    // MARK: - Acknowledging

    /// Reads the pipeline's events and acknowledges every item once complete, until the pipeline ends.
    private func acknowledge() async {
        for await event in pipeline.events {
            let complete = state.withLock { state in
                state.tracker.record(event)
                return state.tracker.takeComplete().map { item in
                    (item, state.spooled.removeValue(forKey: item.id), state.watched.removeValue(forKey: item.id))
                }
            }
            for (item, series, study) in complete {
                if item.wasInterrupted {
                    logger.notice("left for the next start: its processing was cut short", metadata: ["item": "\(item.id)"])
                } else if let series {
                    acknowledge(item, of: series)
                } else if let study {
                    acknowledge(item, of: study)
                }
            }
        }
        let left = state.withLock { $0.tracker.takeAll() }
        if !left.isEmpty {
            logger.notice("items not finished stay for the next start", metadata: ["items": "\(left.map(\.id))"])
        }
    }

    private func acknowledge(_ item: ItemTracker.Item, of series: SpooledSeries) {
        guard let spool else { return }
        let result = ItemResult(item)
        do {
            try spool.markProcessed(series, result: result.json)
        } catch {
            logger.error("cannot record a processed series; it is processed again at the next start (a resume)", metadata: [
                "item": "\(item.id)", "error": "\(error)"])
            return
        }
        metrics.lastInstanceToShard.recordSeconds(max(0, Date().timeIntervalSince(series.lastReceived)))
        metrics.itemDone(source: "dicom", result: result.summary).increment()
        log(result, of: item)
    }

    private func acknowledge(_ item: ItemTracker.Item, of study: URL) {
        guard let watch else { return }
        let result = ItemResult(item)
        do {
            try watch.finish(study, failure: result.summary == "processed" ? nil : result.reason)
        } catch {
            logger.error("cannot move a processed study folder out of the watch folder; it is taken again at the next start (a resume)", metadata: [
                "item": "\(item.id)", "error": "\(error)"])
            return
        }
        metrics.itemDone(source: "watch", result: result.summary).increment()
        log(result, of: item)
    }

    private func log(_ result: ItemResult, of item: ItemTracker.Item) {
        let metadata: Logger.Metadata = ["item": "\(item.id)", "written": "\(result.written)", "failed": "\(result.failed)"]
        switch result.summary {
        case "processed": logger.info("processed", metadata: metadata)
        default: logger.warning("nothing written: \(result.reason)", metadata: metadata)
        }
    }
}
