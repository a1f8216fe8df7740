import HounsfieldHDF5
import Logging

/// The second stage: runs the transform chain and the cast, decoding streamed series as the chain reads them.
/// Runs as `transform_jobs` tasks sharing one input channel; each uses every core inside.
struct TransformStage: Sendable {
    let context: StageContext

    func run(from input: BoundedChannel<DecodedSeries>, to output: BoundedChannel<WriteRequest>) async {
        let (processor, collector, metrics, outputFailed) = (context.processor, context.collector, context.metrics, context.outputFailed)
        while var item = await input.receive() {
            var report = item.report
            let plan = item.plan
            if Task.isCancelled {
                await collector.failed(plan, report: report, StageFailure(CancellationError(), stage: "transform"))
                continue
            }
            // Once the output failed, a volume in hand is not transformed for nothing.
            if let failure = outputFailed.failure {
                await collector.failed(plan, report: report, StageFailure(outputFailure: failure))
                continue
            }
            let start = ContinuousClock.now
            do {
                var volume: ProcessedVolume
                if let decoded = item.volume.take() {
                    // Labels that need the image (a crop found in it) take this decoded volume, not a second decode.
                    let kept = processor.labelsNeedImage(plan) ? decoded : nil
                    volume = try await processor.transform(consume decoded, of: plan)
                    volume.key = plan.key  // a later version's key has its -vN
                    try await processor.attachLabels(to: &volume, plan: plan, decodedImage: kept)
                    report.seconds["transform"] = (ContinuousClock.now - start).inSeconds
                } else {
                    volume = try await context.retry.run(key: plan.key, attempts: &report.attempts, metrics: metrics, logger: context.logger) {
                        try await processor.process(plan)
                    }
                    report.seconds["decode_and_transform"] = (ContinuousClock.now - start).inSeconds
                }
                metrics.stage("transform").recordNanoseconds((ContinuousClock.now - start).nanoseconds)
                let bytes = volume.image.byteCount
                if await !output.send(.volume(TransformedSeries(plan: plan, report: report, volume: volume)), bytes: bytes) {
                    await collector.failed(plan, report: report, StageFailure(CancellationError(), stage: "transform"))
                }
            } catch {
                await collector.failed(plan, report: report, StageFailure(error, stage: "transform"))
            }
        }
    }
}
