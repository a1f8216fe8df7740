import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import Logging

/// A batch run: every series under the inputs, through a ``PipelineService`` fed with one work item, into the
/// output folder; the service's events become `report.json`. One failing series is recorded and the run goes on.
public struct BatchRun: Sendable {
    /// The configuration the run follows, validated.
    public let configuration: RunConfiguration
    /// The output folder (`output.folder`).
    public let output: URL
    /// The per-series work, shared with the per-study ``Preprocessor``.
    public let processor: SeriesProcessor
    /// This process's share when several split the work statically.
    public var split: StaticSplit
    /// Where the run logs what it does.
    public var logger: Logger
    /// Called after each finished series, from any thread.
    public var progress: (@Sendable (RunProgress) -> Void)?
    /// Called once the plan is known: (series to process, series resumed).
    public var planned: (@Sendable (Int, Int) -> Void)?

    /// Validates `configuration` and prepares a run; nothing is read or written yet. Throws
    /// ``RunError/configuration(_:)`` when the configuration is invalid or has no output folder.
    public init(configuration: RunConfiguration, logger: Logger = Logger(label: "hounsfield.run")) throws(RunError) {
        guard let folder = configuration.output.folder else {
            throw .configuration(.invalid(path: "output.folder", reason: "give an output folder (--output)"))
        }
        do { processor = try SeriesProcessor(configuration: configuration) } catch { throw .configuration(error) }
        self.configuration = configuration
        self.output = URL(fileURLWithPath: folder)
        self.logger = logger
        split = StaticSplit(index: configuration.execution.shardIndex, count: configuration.execution.shardCount)
    }

    /// Runs (or, with `dryRun`, only plans) and returns the report; also writes `report.json` into the output folder
    /// unless it is a dry run. Graceful shutdown (a `ServiceGroup`'s SIGTERM) and cancellation end the run early,
    /// with complete volumes published and the report written (`cancelled` true).
    public func run(dryRun: Bool = false) async throws(RunError) -> RunReport {
        let started = Date()
        let clock = ContinuousClock.now
        guard !configuration.inputs.isEmpty else { throw .inputs("no inputs: give files or folders to read") }
        for input in configuration.inputs where !FileManager.default.fileExists(atPath: input) {
            throw .inputs("\(input): no such file or folder")
        }
        if dryRun { return try await plan(started: started, clock: clock) }

        let (items, continuation) = AsyncStream<WorkItem>.makeStream()
        continuation.yield(.paths(configuration.inputs))
        continuation.finish()
        let service = try PipelineService(configuration: configuration, input: items, split: split, logger: logger,
                                          progress: progress, keepsRecord: true)
        let planned = self.planned
        let outcome = await withTaskGroup(of: RunError?.self) { group -> (sink: RunReportSink, error: RunError?) in
            group.addTask {
                do { try await service.run() } catch let error as RunError { return error } catch { return .output("\(error)") }
                return nil
            }
            // The events drive the display; the report comes from the service's own record, which a cancellation
            // cannot cut short.
            for await event in service.events {
                if case .discovered(let discovery) = event { planned?(discovery.planned, discovery.resumed) }
            }
            var failure: RunError?
            for await error in group where error != nil { failure = error }
            return (service.record ?? RunReportSink(), failure)
        }
        if let error = outcome.error { throw error }
        if let discovery = outcome.sink.discoveries.first, let error = discovery.error { throw .inputs(error) }
        // Nothing to do is a mistake to report (a wrong path, a folder of something else), not a success.
        if let discovery = outcome.sink.discoveries.first, discovery.series == 0, let message = discovery.noSeriesMessage {
            throw .inputs(message)
        }
        var final = outcome.sink.report(
            configuration: configuration, output: output, started: started,
            seconds: (ContinuousClock.now - clock).inSeconds, dryRun: false,
            cancelled: Task.isCancelled || outcome.sink.hasCancelledSeries)
        final.outputFailure = service.outputFailure
        let name = configuration.execution.writerName.map { "report-\($0).json" } ?? "report.json"
        ReportFile.write(final, to: output.appendingPathComponent(name), logger: logger)
        return final
    }

    /// `--dry-run`: the series found, what would be done with each, and the estimated output size.
    private func plan(started: Date, clock: ContinuousClock.Instant) async throws(RunError) -> RunReport {
        let scan: ScanResult
        do {
            scan = try await SeriesScanner(options: ScanOptions(spacing: configuration.loading.spacing), logger: logger)
                .scan(configuration.inputs)
        } catch {
            throw .inputs(error.description)
        }
        let decision = SeriesSelection(processor: processor, split: split).select(scan, item: "") { _ in false }
        if decision.volumes == 0, let message = scan.noSeriesMessage { throw .inputs(message) }
        var sink = RunReportSink()
        sink.record(.discovered(.init(
            item: "", files: scan.fileCount, series: decision.volumes, planned: decision.planned.count, resumed: 0,
            excluded: decision.excluded.map { RunReport.Excluded(file: $0.file, reason: $0.reason) }, error: nil, seconds: 0)))
        var estimated = 0
        var planned = decision.skipped
        for plan in decision.planned {
            var report = plan.report
            report.shape = estimatedShape(plan)
            estimated += report.shape!.reduce(1, *) * configuration.output.dtype.size
            planned.append(report)
        }
        sink.fill(planned)
        return sink.report(configuration: configuration, output: output, started: started,
                           seconds: (ContinuousClock.now - clock).inSeconds, dryRun: true, cancelled: false,
                           estimated: estimated)
    }

    /// The output shape (z, y, x) a series will have: the planned grid, resampled to the chain's spacing if any.
    func estimatedShape(_ plan: SeriesPlan) -> [Int] {
        var (size, geometry) = switch plan.image {
        case .series(let series):
            (try? series.plannedGrid(for: processor.loadOptions))?.grid ?? (series.size, series.geometry)
        case .nifti(let input): (input.size, input.geometry)
        }
        // Resampling and crop-or-pad fix the grid without touching voxels; the other spatial steps (crop to the
        // body, nnU-Net's resampling) depend on the data or on dataset choices, and leave the estimate as it is.
        for step in processor.chain {
            switch step {
            case .resample(let resample):
                if let (newSize, newGeometry) = try? resample.outputGrid(size: size, geometry: geometry) {
                    (size, geometry) = (newSize, newGeometry)
                }
            case .cropOrPad(let cropOrPad) where cropOrPad.size.count == 3:
                size = GridSize(x: cropOrPad.size[0], y: cropOrPad.size[1], z: cropOrPad.size[2])
            default:
                break
            }
        }
        return [size.z, size.y, size.x]
    }
}
