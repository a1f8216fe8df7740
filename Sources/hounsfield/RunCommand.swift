import ArgumentParser
import Dispatch
import Foundation
import Hounsfield
import Logging
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Turn every CT series under the inputs into HDF5 shards: decode → clip → resample → normalize → cast.",
        discussion: """
            Flags override the configuration file (--config). Writes shards, manifest.jsonl, configuration.json and
            report.json into --output. Exit status: 0 when every selected series was written, 3 when some failed
            (the others are written), 2 when the configuration or the inputs are unusable or no series was found
            (nothing done), 4 when the output failed (a full disk, a failed write or fsync, a removed folder: the
            run stops, shards published before are intact, the unfinished one stays .partial, report.json says which
            series were not written, or goes to standard error when it cannot be written; free space, then rerun
            with --resume), 130 when stopped by SIGTERM or Ctrl-C (the series in flight finish, complete volumes are
            published; rerun with --resume).
            Static split across processes: --shard-index/--shard-count, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT,
            or JOB_COMPLETION_INDEX with HOUNSFIELD_SHARD_COUNT (Kubernetes indexed Jobs).
            """
    )

    /// Exit status when the output could not be written (documented in the discussion and docs/pipeline.md).
    static let outputFailedStatus: Int32 = 4

    @Argument(help: "DICOM files or folders (searched recursively); added to the configuration's inputs.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String?

    @Option(help: "Configuration file, JSON or YAML (.yaml, .yml; see docs/pipeline.md), or an output folder of an earlier run to repeat its preprocessing (give its --salt).")
    var config: String?

    @Option(help: "Target spacing in mm: X or X,Y,Z.")
    var spacing: String?

    @Option(help: "HU window to clip to, as LEVEL,WIDTH (e.g. 40,400).")
    var window: String?

    @Option(help: "A named window: \(Window.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var windowPreset: Window.Preset?

    @Option(help: "none, minmax (with a window: the window onto [0, 1]), zscore, nnunet-ct.")
    var normalize: String?

    @Option(help: "nearest, linear or bspline.")
    var interpolation: Resample.Interpolation?

    @Option(help: "Output type: float32, float16, int16, uint8.")
    var dtype: ShardElementType?

    @Option(help: "gzip:N (default gzip:1), zstd:N, lz4 or none.")
    var compression: ShardCompression?

    @Option(help: "Chunk layout: slabs, slabs:N or cubes:N.")
    var chunks: ChunkLayout?

    @Option(help: "Series decoded and transformed at once (each uses all cores).")
    var jobs: Int?

    @Option(help: "Series decoded at once, when it should differ from --jobs (e.g. slow network storage).")
    var decodeJobs: Int?

    @Option(help: "Series transformed at once, when it should differ from --jobs.")
    var transformJobs: Int?

    @Option(help: "Bytes of volumes in flight between stages, e.g. 4GB.")
    var memoryLimit: StorageSize?

    @Flag(help: "Continue an earlier run into the same folder: published volumes are skipped.")
    var resume = false

    @Flag(help: "Show the plan (series found, what would be done, estimated output size) and stop.")
    var dryRun = false

    @Option(help: "This process's part of a static split (0-based).")
    var shardIndex: Int?

    @Option(help: "Number of parts in a static split.")
    var shardCount: Int?

    @Flag(help: "Write a QC preview per volume and index.html.")
    var previews = false

    @Option(help: "Salt for hashing identifiers in outputs (keep it fixed for one dataset).")
    var salt: String?

    @Option(help: "Seconds a shutdown (SIGTERM, Ctrl-C) may take to finish the series in flight before they are abandoned; the open shard is published either way.")
    var shutdownTimeout: Double = 120

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let decodeJobs, decodeJobs < 1 { throw ValidationError("--decode-jobs must be at least 1") }
        if let transformJobs, transformJobs < 1 { throw ValidationError("--transform-jobs must be at least 1") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if let shardIndex, shardIndex < 0 { throw ValidationError("--shard-index must be 0 or more (the first part is 0)") }
        if shardIndex != nil, shardCount == nil, StaticSplit.scheduler(environment: ProcessInfo.processInfo.environment).count == nil {
            throw ValidationError("--shard-index needs --shard-count (or SLURM_ARRAY_TASK_COUNT / HOUNSFIELD_SHARD_COUNT)")
        }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must be 0 or more seconds") }
    }

    func run() async throws {
        logging.bootstrap()
        let configuration: RunConfiguration
        let batch: BatchRun
        do {
            configuration = try effectiveConfiguration()
            try configuration.validate()
            batch = try BatchRun(configuration: configuration, logger: Logger(label: "hounsfield.run"))
        } catch {
            FileHandle.standardError.write(Data("hounsfield run: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let display = RunDisplay()
        var observed = batch
        observed.progress = display.update
        observed.planned = display.planned
        let service = BatchRunService(observed, dryRun: dryRun) {
            FileHandle.standardError.write(Data("\nstopping: finishing the series in flight and publishing the open shard\n".utf8))
        }
        var group = ServiceGroupConfiguration(
            services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "hounsfield.run.lifecycle"))
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownTimeout * 1000))
        try await ServiceGroup(configuration: group).run()
        display.finish()
        switch service.result {
        case .success(let report):
            print(RunSummary(report).rendered)
            if let failure = report.outputFailure {
                FileHandle.standardError.write(Data("hounsfield run: the output failed: \(failure)\n".utf8))
                throw ExitCode(Self.outputFailedStatus)
            }
            if report.cancelled { throw ExitCode(130) }
            if (report.counts["failed"] ?? 0) > 0 { throw ExitCode(3) }
        case .failure(let error):
            FileHandle.standardError.write(Data("hounsfield run: \(error)\n".utf8))
            throw ExitCode(2)
        case nil:
            throw ExitCode(130)
        }
    }

    /// The configuration file (if any), then the flags, then the scheduler's environment.
    func effectiveConfiguration() throws -> RunConfiguration {
        var c = try config.map { path throws(ConfigurationError) in try ConfigurationFile.load(path) } ?? RunConfiguration()
        c.inputs += inputs
        if let output { c.output.folder = output }
        try c.requireShortcutsApply([("--spacing", spacing), ("--window", window), ("--window-preset", windowPreset?.rawValue),
                                     ("--normalize", normalize), ("--interpolation", interpolation?.rawValue)]
            .compactMap { $0.1 == nil ? nil : $0.0 })
        if let spacing { try c.preprocessing.setSpacing(spacing) }
        if let window { try c.preprocessing.setWindow(levelAndWidth: window) }
        if let windowPreset { c.preprocessing.setWindow(windowPreset) }
        if let normalize { c.preprocessing.normalize = normalize }
        if let interpolation { c.preprocessing.interpolation = interpolation }
        if let dtype { c.output.dtype = dtype }
        if let compression { c.output.compression = compression }
        if let chunks { c.output.chunks = chunks }
        if let jobs { c.execution.jobs = jobs }
        if let decodeJobs { c.execution.decodeJobs = decodeJobs }
        if let transformJobs { c.execution.transformJobs = transformJobs }
        if let memoryLimit { c.execution.memoryLimit = memoryLimit }
        if resume { c.execution.resume = true }
        if previews { c.output.previews = true }
        if let salt { c.privacy.salt = salt }
        let scheduler = StaticSplit.scheduler(environment: ProcessInfo.processInfo.environment)
        if let index = shardIndex ?? scheduler.index { c.execution.shardIndex = index }
        if let count = shardCount ?? scheduler.count { c.execution.shardCount = count }
        if c.execution.shardCount > 1 && c.execution.writerName == nil { c.execution.writerName = "s\(c.execution.shardIndex)" }
        return c
    }
}

extension Window.Preset: ExpressibleByArgument {}
extension Resample.Interpolation: ExpressibleByArgument {}
extension ShardElementType: ExpressibleByArgument {}

extension ShardCompression: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension ChunkLayout: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension StorageSize: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
