import HounsfieldCore
import HounsfieldHDF5
import Logging

/// The first stage: decodes a planned series to HU on its grid, unless it streams (the transform stage then
/// decodes it slice by slice as its chain reads it, and this stage passes it on). Runs as `decode_jobs` tasks that
/// share one input channel.
struct DecodeStage: Sendable {
    let context: StageContext
    /// Set when the service drains: series not yet started are reported as not processed.
    let draining: CancellationFlag

    func run(from input: BoundedChannel<SeriesPlan>, to output: BoundedChannel<DecodedSeries>) async {
        let (processor, collector, metrics, outputFailed) = (context.processor, context.collector, context.metrics, context.outputFailed)
        while let plan = await input.receive() {
            var report = plan.report
            if draining.isSet || Task.isCancelled || outputFailed.isRaised {
                await collector.notStarted(plan, outputFailed: outputFailed.isRaised)
                continue
            }
            if processor.decodesAsRead(plan) {
                if await !output.send(DecodedSeries(plan: plan, report: report, volume: nil), bytes: 0) {
                    await collector.notStarted(plan)
                }
                continue
            }
            let start = ContinuousClock.now
            do {
                let volume = try await context.retry.run(key: plan.key, attempts: &report.attempts, metrics: metrics, logger: context.logger) {
                    try await processor.decode(plan)
                }
                report.seconds["decode"] = (ContinuousClock.now - start).inSeconds
                metrics.stage("decode").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                let bytes = volume.voxels.count * MemoryLayout<Float32>.size
                if await !output.send(DecodedSeries(plan: plan, report: report, volume: volume), bytes: bytes) {
                    await collector.failed(plan, report: report, StageFailure(CancellationError(), stage: "decode"))
                }
            } catch {
                await collector.failed(plan, report: report, StageFailure(error, stage: "decode"))
            }
        }
    }
}
