import Synchronization

/// Where every stage files what became of a series. It turns outcomes into ``PipelineEvent``s on the service's
/// event channel (in order: an item's discovery, its outcomes, then `itemFinished` after its last series), keeps
/// the counts that progress reports, and feeds the metrics.
///
/// It can also keep the whole record itself (`keepsRecord`): a cancelled task can no longer send events, so a
/// batch run builds its report from this record, which every outcome reaches even under cancellation. A
/// long-running service leaves it off, so its memory does not grow with the work done.
final class OutcomeCollector: Sendable {
    let events: BoundedChannel<PipelineEvent>
    private let metrics: PipelineMetrics
    private let progress: (@Sendable (RunProgress) -> Void)?
    private let started = ContinuousClock.now
    private let state = Mutex(State())
    private let record: Mutex<RunReportSink?>

    private struct State {
        /// Planned series without an outcome yet, by key: what their report needs, not their descriptors (every
        /// image's header), which a run of thousands of series would otherwise keep until the last one is done.
        var outstanding: [String: Pending] = [:]
        /// Planned series of each item that have no outcome yet.
        var remaining: [String: Int] = [:]
        var planned = 0
        var done = 0
        var failed = 0
        var bytes = 0
        var voxels = 0
    }

    /// Called when an item's last planned series has its outcome, before `itemFinished` is emitted.
    private let onItemFinished: (@Sendable () -> Void)?

    init(events: BoundedChannel<PipelineEvent>, metrics: PipelineMetrics, progress: (@Sendable (RunProgress) -> Void)?,
         keepsRecord: Bool, onItemFinished: (@Sendable () -> Void)? = nil) {
        self.events = events
        self.metrics = metrics
        self.progress = progress
        self.onItemFinished = onItemFinished
        record = Mutex(keepsRecord ? RunReportSink() : nil)
    }

    /// The record of every event so far, when kept.
    var recorded: RunReportSink? { record.withLock { $0 } }

    /// An item was discovered: `planned` go on to the stages, `skipped` do not.
    func discovered(_ discovery: PipelineEvent.Discovery, skipped: [RunReport.SeriesOutcome], planned: [SeriesPlan]) async {
        state.withLock {
            $0.remaining[discovery.item, default: 0] += planned.count
            $0.planned += planned.count
            for plan in planned { $0.outstanding[plan.key] = Pending(plan) }
        }
        await emit(.discovered(discovery))
        for report in skipped { await emit(.outcome(.init(item: discovery.item, report: report, bytes: 0))) }
        if planned.isEmpty { await emit(.itemFinished(discovery.item)) }
    }

    /// Reports every planned series still without an outcome as `cancelled`: the service ended (cancelled) with
    /// them in a channel or a stage.
    func abandonOutstanding(outputFailed: Bool) async {
        let left = state.withLock { Array($0.outstanding.values) }
        for pending in left.sorted(by: { $0.key < $1.key }) { await notStarted(pending, outputFailed: outputFailed) }
    }

    /// A series was written into the open shard `shard`.
    func written(_ plan: SeriesPlan, report: RunReport.SeriesOutcome, shard: String, checksum: String, bytes: Int) async {
        let plan = Pending(plan)
        var report = report
        report.status = .written
        metrics.written.increment()
        metrics.bytes.increment(by: bytes)
        let voxels = (report.shape ?? [0]).reduce(1, *)
        metrics.voxels.increment(by: voxels)
        await finish(plan, .init(item: plan.item, report: report, shard: shard, checksum: checksum, bytes: bytes)) {
            $0.bytes += bytes
            $0.voxels += voxels
        }
    }

    /// A series failed, or was cancelled (`failure.isCancellation`).
    func failed(_ plan: SeriesPlan, report: RunReport.SeriesOutcome, _ failure: StageFailure) async {
        let plan = Pending(plan)
        var report = report
        if failure.isCancellation {
            report.status = .cancelled
        } else {
            report.status = .failed
            report.stage = failure.stage
            report.file = failure.file
            report.error = failure.message
            metrics.failed.increment()
            metrics.failure(stage: failure.stage).increment()
        }
        let counts = !failure.isCancellation
        await finish(plan, .init(item: plan.item, report: report, bytes: 0)) { if counts { $0.failed += 1 } }
    }

    /// A series was never started: the service was shutting down (`cancelled`), or its output had failed
    /// (`not_processed`). Either way a resume processes it.
    func notStarted(_ plan: SeriesPlan, outputFailed: Bool = false) async {
        await notStarted(Pending(plan), outputFailed: outputFailed)
    }

    private func notStarted(_ plan: Pending, outputFailed: Bool) async {
        var report = plan.report
        report.status = outputFailed ? .notProcessed : .cancelled
        report.attempts = 0
        await finish(plan, .init(item: plan.item, report: report, bytes: 0)) { _ in }
    }

    /// A shard was published.
    func published(_ publication: PipelineEvent.ShardPublication) async {
        await emit(.published(publication))
    }

    private func emit(_ event: PipelineEvent) async {
        record.withLock { $0?.record(event) }
        await events.send(event, bytes: 0)
    }

    private func finish(
        _ plan: Pending, _ outcome: PipelineEvent.SeriesOutcome, _ update: (inout State) -> Void
    ) async {
        let first: (Bool, RunProgress)? = state.withLock { state in
            // One outcome per series: a late second one (a stage that met a cancellation after the series was
            // abandoned) is dropped.
            guard state.outstanding.removeValue(forKey: plan.key) != nil else { return nil }
            update(&state)
            state.done += 1
            let left = (state.remaining[plan.item] ?? 1) - 1
            state.remaining[plan.item] = left > 0 ? left : nil
            return (left <= 0, RunProgress(
                done: state.done, total: state.planned, failed: state.failed, bytesWritten: state.bytes,
                voxelsWritten: state.voxels, elapsed: (ContinuousClock.now - started).inSeconds))
        }
        guard let (itemDone, snapshot) = first else { return }
        if itemDone { onItemFinished?() }
        await emit(.outcome(outcome))
        if itemDone { await emit(.itemFinished(plan.item)) }
        progress?(snapshot)
    }
}

/// What the collector keeps of a planned series until its outcome.
private struct Pending: Sendable {
    let key: String
    let item: String
    let report: RunReport.SeriesOutcome

    init(_ plan: SeriesPlan) {
        key = plan.key
        item = plan.item
        report = plan.report
    }
}
