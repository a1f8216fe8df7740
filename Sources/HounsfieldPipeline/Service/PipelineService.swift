import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import Logging
import ServiceLifecycle
import Synchronization

/// The pipeline as a long-running service: it takes ``WorkItem``s from any `AsyncSequence`, discovers their series,
/// and streams each through decode → transform → write into the output folder's shards, reporting every step on
/// ``events``. `hounsfield run` feeds it one item and reads the events into `report.json`; a distributed worker
/// feeds it study folders as it leases them; the daemon feeds it studies as they complete.
///
/// **Bounded end to end.** The input is read only when the first stage has room: a source that produces faster
/// than the pipeline works waits in its own `next()`, it does not queue without limit. Between the stages, channels
/// are bounded by count and by bytes (a quarter of `execution.memory_limit` each, whole volumes travelling), and the
/// event channel by count: read ``events``, or the service waits for you.
///
/// **Flat memory.** Its resident size does not grow with the work done: volumes in flight are bounded by the
/// channels, the writer's chunk buffers are reused, and on Linux glibc's malloc is given fixed thresholds when the
/// service starts, for the whole process, and its free pages are returned after each item's scan and when the writer goes idle (decision 43).
///
/// **Shutdown.** On graceful shutdown (SIGTERM or SIGINT through a `ServiceGroup`, or `triggerGracefulShutdown()`)
/// the service stops taking items, reports the series not yet started as `cancelled`, finishes the series in flight,
/// publishes the open shard and returns. Cancellation (a `ServiceGroup`'s shutdown deadline, or the caller's)
/// reaches every stage and channel: work in hand is abandoned, and complete volumes are still published, so a shard
/// is never left half-written — an unfinished one stays `.partial`, which no reader opens. A series cut short is
/// `cancelled`, not `failed`: `--resume` processes it.
public final class PipelineService<Input: AsyncSequence & Sendable>: Service, Sendable where Input.Element == WorkItem {
    /// What happens, in order: discoveries, outcomes, publications, finished items. Ends when ``run()`` returns.
    public let events: BoundedChannel<PipelineEvent>
    /// The configuration, validated.
    public let configuration: RunConfiguration
    /// The per-series work: one chain, built once for the service's life.
    public let processor: SeriesProcessor
    /// This process's share of a static split.
    public let split: StaticSplit
    private let input: Input
    private let output: URL
    private let logger: Logger
    private let progress: (@Sendable (RunProgress) -> Void)?
    private let keepsRecord: Bool
    private let publishWhenIdle: Duration?
    private let publishesEachItem: Bool
    private let coordinatedOutput: Bool
    private let collected = Mutex<RunReportSink?>(nil)
    private let failure = Mutex<OutputFailure?>(nil)

    /// A service that reads `input` and writes into `configuration.output.folder`. Throws
    /// ``RunError/configuration(_:)`` when the configuration is invalid or names no output folder. Nothing is read
    /// or written before ``run()``.
    ///
    /// `progress` is called after each series' outcome, from any thread. With `keepsRecord`, the service also
    /// keeps every event in ``record`` (a batch run's report, complete even when the run is cancelled); a service
    /// that runs for weeks leaves it off. With `publishWhenIdle`, the open shard is published once nothing was
    /// written for that long, so what a quiet source sent becomes durable without waiting for the shard to fill
    /// (a worker, the daemon); without it (a batch run) shards rotate by size and count only, so the same input
    /// gives the same shards.
    ///
    /// Two settings are for a worker of `hounsfield coordinator`. With `publishesEachItem`, the open shard is
    /// published as soon as an item's last series has its outcome, so the item's written series are durable (and
    /// can be reported complete) without waiting for the shard to fill; a shard may then also hold the first
    /// volumes of another item in flight. With `coordinatedOutput`, the writer treats the folder's `manifest.jsonl`
    /// as the coordinator's (``ShardWriterOptions/coordinated``).
    public init(
        configuration: RunConfiguration, input: Input, split: StaticSplit = .whole,
        logger: Logger = Logger(label: "hounsfield.pipeline"), progress: (@Sendable (RunProgress) -> Void)? = nil,
        keepsRecord: Bool = false, publishWhenIdle: Duration? = nil, publishesEachItem: Bool = false,
        coordinatedOutput: Bool = false
    ) throws(RunError) {
        guard let folder = configuration.output.folder else {
            throw .configuration(.invalid(path: "output.folder", reason: "give an output folder (--output)"))
        }
        do { processor = try SeriesProcessor(configuration: configuration) } catch { throw .configuration(error) }
        self.configuration = configuration
        self.input = input
        self.split = split
        self.output = URL(fileURLWithPath: folder)
        self.logger = logger
        self.progress = progress
        self.keepsRecord = keepsRecord
        self.publishWhenIdle = publishWhenIdle
        self.publishesEachItem = publishesEachItem
        self.coordinatedOutput = coordinatedOutput
        events = BoundedChannel(capacity: 1024)
    }

    /// Why the output failed (a full disk, a failed write or fsync, a removed folder), once ``run()`` has returned:
    /// the service then stopped taking work, kept what it had published, and left the unfinished shard `.partial`.
    public var outputFailure: OutputFailure? { failure.withLock { $0 } }

    /// Every event of the run, once ``run()`` has returned (nil without `keepsRecord`).
    public var record: RunReportSink? { collected.withLock { $0 } }

    /// Prepares the output folder (refusing one that holds another configuration's output), then runs until the
    /// input ends, graceful shutdown, or cancellation. Throws ``RunError/output(_:)`` when the output folder cannot
    /// be prepared; failures of single series are outcomes, never thrown.
    public func run() async throws {
        defer { events.finish() }
        // For the life of the process: what stays resident is then what is alive, however long the service runs
        // and whatever passed through it before (decision 43).
        MallocTuning.configureForLongRuns()
        let writer: ShardWriter
        do {
            try OutputPreparation(configuration: configuration, output: output).recordConfiguration()
            var options = configuration.writerOptions
            options.coordinated = coordinatedOutput
            if coordinatedOutput { options.resume = true }
            writer = try ShardWriter(directory: output, options: options, logger: logger)
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError.output(String(describing: error))
        }
        let draining = CancellationFlag()
        await withGracefulShutdownHandler {
            await runStages(writer: WriterBox(writer), draining: draining)
        } onGracefulShutdown: {
            draining.set()
        }
    }

    private func runStages(writer: WriterBox, draining: CancellationFlag) async {
        let execution = configuration.execution
        let decodeJobs = execution.decodeJobs ?? execution.jobs
        let transformJobs = execution.transformJobs ?? execution.jobs
        // Each volume channel may hold a quarter of the budget; the rest is the volumes inside the stages.
        let budget = execution.memoryLimit?.bytes ?? Int(ProcessInfo.processInfo.physicalMemory / 4)
        let plans = BoundedChannel<SeriesPlan>(capacity: decodeJobs)
        let decoded = BoundedChannel<DecodedSeries>(capacity: transformJobs + 1, byteLimit: max(1, budget / 4))
        // One more place than volumes, for an idle publication request.
        let transformed = BoundedChannel<WriteRequest>(
            capacity: transformJobs + (publishWhenIdle == nil && !publishesEachItem ? 1 : 2), byteLimit: max(1, budget / 4))
        let metrics = PipelineMetrics()
        let activity = WriterActivity(idleAfter: publishWhenIdle ?? .seconds(3600))
        let itemFinished: (@Sendable () -> Void)? = publishesEachItem ? { @Sendable in activity.requestPublication() } : nil
        let collector = OutcomeCollector(
            events: events, metrics: metrics, progress: progress, keepsRecord: keepsRecord, onItemFinished: itemFinished)
        let retry = RetryPolicy(retries: execution.retries)
        let discover = DiscoverStage(
            selection: SeriesSelection(processor: processor, split: split), collector: collector, logger: logger,
            alreadyPublished: writer.writer.publishedKeys)
        let outputFailed = writer.writer.failureFlag
        let context = StageContext(processor: processor, retry: retry, collector: collector, metrics: metrics,
                                   logger: logger, outputFailed: outputFailed)
        let decode = DecodeStage(context: context, draining: draining)
        let transform = TransformStage(context: context)
        let previewChannel = configuration.output.previews
            ? BoundedChannel<ProcessedVolume>(capacity: 2, byteLimit: max(1, budget / 4)) : nil
        let previews = PreviewSink(writer: PreviewWriter(folder: writer.writer.folder), logger: logger)
        let niftiChannel = configuration.output.nifti
            ? BoundedChannel<ProcessedVolume>(capacity: 2, byteLimit: max(1, budget / 4)) : nil
        let niftiCopies = NIfTISink(folder: writer.writer.folder.url.appendingPathComponent("nifti"), logger: logger)
        let write = WriteStage(writer: writer, collector: collector, metrics: metrics, logger: logger, activity: activity,
                               previews: previewChannel, niftiCopies: niftiChannel)
        let publishWhenIdle = self.publishWhenIdle
        let publishesEachItem = self.publishesEachItem
        let input = self.input

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await discover.run(input.cancelOnGracefulShutdown(), to: plans, draining: draining, outputFailed: outputFailed)
                plans.finish()
            }
            let decoders = SharedCount(decodeJobs)
            for _ in 0..<decodeJobs {
                group.addTask {
                    await decode.run(from: plans, to: decoded)
                    if decoders.decrement() == 0 { decoded.finish() }
                }
            }
            let transformers = SharedCount(transformJobs)
            for _ in 0..<transformJobs {
                group.addTask {
                    await transform.run(from: decoded, to: transformed)
                    if transformers.decrement() == 0 { transformed.finish() }
                }
            }
            let (writerEnded, endWriter) = AsyncStream.makeStream(of: Void.self)
            group.addTask {
                _ = await write.run(from: transformed)
                endWriter.finish()
                previewChannel?.finish()
                niftiChannel?.finish()
            }
            if let previewChannel { group.addTask { await previews.run(from: previewChannel) } }
            if let niftiChannel { group.addTask { await niftiCopies.run(from: niftiChannel) } }
            if publishWhenIdle != nil || publishesEachItem {
                // Requests made while the writer waits for volumes are served within a fifth of a second.
                let tick = publishesEachItem ? min(activity.idleAfter / 2, .milliseconds(200)) : activity.idleAfter / 2
                group.addTask {
                    // Cancelled as soon as the writer ends, so that the service does not wait out a tick to return.
                    await withTaskGroup(of: Void.self) { publisher in
                        publisher.addTask {
                            await IdlePublisher(activity: activity, tick: tick).run(into: transformed)
                        }
                        publisher.addTask { for await _ in writerEnded {} }
                        await publisher.next()
                        publisher.cancelAll()
                    }
                }
            }
        }
        await collector.abandonOutstanding(outputFailed: outputFailed.isRaised)
        collected.withLock { $0 = collector.recorded }
        failure.withLock { $0 = outputFailed.failure }
    }
}
