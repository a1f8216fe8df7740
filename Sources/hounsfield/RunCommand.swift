import ArgumentParser
import Dispatch
import Foundation
import Hounsfield
import Logging
import ServiceLifecycle

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Turn every CT series (DICOM or NIfTI) under the inputs into HDF5 shards: decode → clip → resample → normalize → cast.",
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

    @Argument(help: "DICOM or NIfTI files or folders (searched recursively; nnU-Net raw datasets too); added to the configuration's inputs.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String?

    @OptionGroup var job: JobOptions

    @Flag(help: "Continue an earlier run into the same folder: published volumes are skipped.")
    var resume = false

    @Flag(help: "Show the plan (series found, what would be done, estimated output size) and stop.")
    var dryRun = false

    @Option(help: "This process's part of a static split (0-based).")
    var shardIndex: Int?

    @Option(help: "Number of parts in a static split.")
    var shardCount: Int?

    @Option(help: "Seconds a shutdown (SIGTERM, Ctrl-C) may take to finish the series in flight before they are abandoned; the open shard is published either way.")
    var shutdownTimeout: Double = 120

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
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
            logger: Logger(label: "hounsfield.run.lifecycle"))
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownTimeout * 1000))
        try await ServiceGroup(configuration: group).run(stoppingOn: [SIGTERM, SIGINT])
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
        var c = try job.configuration()
        c.inputs += inputs
        if let output { c.output.folder = output }
        if resume { c.execution.resume = true }
        let scheduler = StaticSplit.scheduler(environment: ProcessInfo.processInfo.environment)
        if let index = shardIndex ?? scheduler.index { c.execution.shardIndex = index }
        if let count = shardCount ?? scheduler.count { c.execution.shardCount = count }
        if c.execution.shardCount > 1 && c.execution.writerName == nil { c.execution.writerName = "s\(c.execution.shardIndex)" }
        return c
    }
}
