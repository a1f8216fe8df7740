import HounsfieldHDF5
import Logging

/// What every processing stage works with: the per-series work, the retry policy, where outcomes go, the metrics,
/// the log, and the writer's failure flag (once the output failed, nothing more is worth doing).
struct StageContext: Sendable {
    let processor: SeriesProcessor
    let retry: RetryPolicy
    let collector: OutcomeCollector
    let metrics: PipelineMetrics
    let logger: Logger
    let outputFailed: OutputFailureFlag
}
