import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import Logging
import Synchronization

/// A batch run: find the series under the inputs, select them, and stream them through decode → transform → shard
/// writer, with bounded channels between the stages. One failing series is recorded and the run goes on.
public struct BatchRun: Sendable {
    /// The configuration the run follows, validated.
    public let configuration: RunConfiguration
    /// The output folder (`output.folder`).
    public let output: URL
    /// The per-series work, shared with the per-study ``Preprocessor``.
    public let processor: SeriesProcessor
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
    }

    /// Runs (or, with `dryRun`, only plans) and returns the report; also writes `report.json` into the output folder
    /// unless it is a dry run.
    public func run(dryRun: Bool = false) async throws(RunError) -> RunReport {
        let started = Date()
        let clock = ContinuousClock.now
        guard !configuration.inputs.isEmpty else { throw .inputs("no inputs: give files or folders to read") }
        let scan: ScanResult
        do {
            scan = try await SeriesScanner(options: ScanOptions(spacing: configuration.loading.spacing), logger: logger)
                .scan(configuration.inputs)
        } catch {
            throw .inputs(error.description)
        }
        var outcomes: [String: RunReport.SeriesOutcome] = [:]
        var selected: [SeriesDescriptor] = []
        for series in scan.series.sorted(by: { processor.key(for: $0) < processor.key(for: $1) }) {
            let key = processor.key(for: series)
            var outcome = RunReport.SeriesOutcome(
                key: key, description: series.seriesDescription, modality: series.modality, status: .planned,
                slices: series.slices.count, seconds: [:], warnings: series.warnings.map(\.message), attempts: 0)
            if let reason = processor.rejection(of: series) {
                outcome.status = .filtered
                outcome.reason = reason
            } else if !belongsToThisShard(series) {
                outcome.status = .otherShard
            } else {
                selected.append(series)
            }
            outcomes[key] = outcome
        }
        let excluded = scan.excluded.map { RunReport.Excluded(file: $0.file, reason: $0.reason) }

        if dryRun {
            var estimated = 0
            for series in selected {
                let shape = estimatedShape(series)
                outcomes[processor.key(for: series)]?.shape = shape
                estimated += shape.reduce(1, *) * configuration.output.dtype.size
            }
            return report(outcomes, excluded: excluded, started: started, seconds: (ContinuousClock.now - clock).inSeconds,
                          dryRun: true, cancelled: false, bytes: 0, estimated: estimated, shards: [])
        }

        let writer: ShardWriter
        do {
            try recordConfiguration()
            writer = try ShardWriter(directory: output, options: writerOptions(), logger: logger)
        } catch let error as RunError {
            throw error
        } catch {
            throw .output(String(describing: error))
        }
        var pending: [SeriesDescriptor] = []
        for series in selected {
            let key = processor.key(for: series)
            if writer.isPublished(key) { outcomes[key]?.status = .resumed } else { pending.append(series) }
        }
        planned?(pending.count, selected.count - pending.count)

        let results = await Pipeline(run: self, series: pending, writer: WriterBox(writer)).run()
        var bytes = 0
        for result in results {
            outcomes[result.key]?.status = result.status
            outcomes[result.key]?.stage = result.stage
            outcomes[result.key]?.file = result.file
            outcomes[result.key]?.error = result.error
            outcomes[result.key]?.shape = result.shape
            outcomes[result.key]?.seconds = result.seconds
            outcomes[result.key]?.attempts = result.attempts
            bytes += result.bytes
        }
        let cancelled = Task.isCancelled
        var publishFailure: String?
        do { try writer.finish() } catch {
            // An output failure was logged by the writer when it happened.
            if writer.failure == nil { logger.error("could not publish the last shard", metadata: ["error": "\(error)"]) }
            publishFailure = "\(error)"
        }
        // A series counts as written only once its shard is published: one whose shard never was (a failed
        // publication, here or at a rotation) is reported as failed, so a resume processes it again.
        let publishedKeys = Set(writer.published.map(\.key))
        for (key, outcome) in outcomes where outcome.status == .written && !publishedKeys.contains(key) {
            outcomes[key]?.status = .failed
            outcomes[key]?.stage = "write"
            outcomes[key]?.error = publishFailure.map { "its shard could not be published: \($0)" } ?? "its shard was not published"
        }
        let shards = Array(Set(writer.published.map(\.shard))).sorted()
        var final = report(outcomes, excluded: excluded, started: started, seconds: (ContinuousClock.now - clock).inSeconds,
                           dryRun: false, cancelled: cancelled, bytes: bytes, estimated: nil, shards: shards)
        final.outputFailure = writer.failure
        let name = configuration.execution.worker.map { "report-\($0).json" } ?? "report.json"
        ReportFile.write(final, to: output.appendingPathComponent(name), logger: logger)
        return final
    }

    // MARK: - Planning

    /// Static split for `--shard-index/--shard-count`: by the hash of the series identity, so every process agrees
    /// without talking and the split does not depend on listing order.
    func belongsToThisShard(_ series: SeriesDescriptor) -> Bool {
        let count = configuration.execution.shardCount
        guard count > 1 else { return true }
        let value = UInt64(processor.hash(series.key).prefix(15), radix: 16) ?? 0
        return Int(value % UInt64(count)) == configuration.execution.shardIndex
    }

    /// The output shape (z, y, x) a series will have: the planned grid, resampled to the chain's spacing if any.
    func estimatedShape(_ series: SeriesDescriptor) -> [Int] {
        let grid = (try? series.plannedGrid(for: processor.loadOptions))
        var size = grid?.size ?? series.size
        var geometry = grid?.geometry ?? series.geometry
        // Resampling and crop-or-pad fix the grid without touching voxels; the other spatial steps (crop to the
        // body, nnU-Net's resampling) depend on the data or on dataset choices, and leave the estimate as it is.
        for step in (try? configuration.transformChain()) ?? [] {
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

    func writerOptions() throws(RunError) -> ShardWriterOptions {
        do {
            return ShardWriterOptions(
                compression: try ShardCompression(parsing: configuration.output.compression),
                chunks: try ChunkLayout(parsing: configuration.output.chunks),
                maxShardBytes: try ByteSize.parse(configuration.output.shardSize),
                maxVolumesPerShard: configuration.output.shardVolumes ?? .max,
                worker: configuration.execution.worker, resume: configuration.execution.resume,
                previews: configuration.output.previews ? PreviewOptions() : nil)
        } catch {
            throw .configuration(.invalid(path: "output", reason: "\(error)"))
        }
    }

    /// `configuration.json` in the output folder: the processing part of the configuration, its key, and the
    /// configuration as a file that `--config` and `ConfigurationFile` read back (salt left out). A resumed run (or
    /// another worker) with a different key is refused: one folder holds one preprocessing.
    func recordConfiguration() throws(RunError) {
        let path = output.appendingPathComponent("configuration.json")
        if let data = FileManager.default.contents(atPath: path.path),
           let recorded = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let key = recorded["configuration_key"] as? String, key != configuration.key {
            throw .output("\(output.path) holds output of another configuration (key \(key.prefix(12))…, this run's is \(configuration.key.prefix(12))…); use a new folder or the same configuration")
        }
        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let processing = try JSONSerialization.jsonObject(with: configuration.processingJSON)
            let recorded = try JSONSerialization.jsonObject(with: configuration.recordedJSON)
            let object: [String: Any] = ["configuration_key": configuration.key, "processing": processing,
                                         "configuration": recorded, "software_version": ShardFormat.softwareVersion]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: path, options: .atomic)
        } catch {
            throw .output("cannot write \(path.path): \(error.localizedDescription)")
        }
    }

    func report(_ outcomes: [String: RunReport.SeriesOutcome], excluded: [RunReport.Excluded], started: Date,
                seconds: Double, dryRun: Bool, cancelled: Bool, bytes: Int, estimated: Int?, shards: [String]) -> RunReport {
        let series = outcomes.values.sorted { $0.key < $1.key }
        var counts: [String: Int] = [:]
        for outcome in series { counts[outcome.status.rawValue, default: 0] += 1 }
        counts["excluded_files"] = excluded.count
        return RunReport(
            tool: ShardFormat.softwareVersion, configurationKey: configuration.key, output: output.path,
            started: ISO8601DateFormatter().string(from: started), seconds: seconds, dryRun: dryRun, cancelled: cancelled,
            counts: counts, bytesWritten: bytes, estimatedBytes: estimated, series: series, excluded: excluded,
            shards: shards, execution: configuration.execution)
    }
}

/// The shard writer, handed to the sink stage's Dispatch work.
///
/// `@unchecked Sendable` is safe because exactly one task (the sink loop in `Pipeline.run`) uses it, one write at a
/// time: each use is an awaited `ParallelLoop.offload`, so no two threads ever touch the writer at once, and the
/// run reads its results only after the sink loop has ended.
final class WriterBox: @unchecked Sendable {
    let writer: ShardWriter
    init(_ writer: ShardWriter) { self.writer = writer }
}
