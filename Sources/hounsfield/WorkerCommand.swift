import ArgumentParser
import Foundation
import Hounsfield
import HounsfieldDistributed
import Logging
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Take study folders from a `hounsfield coordinator` and convert them, until it says the run is over.",
        discussion: """
            The job's configuration and the output folder come from the coordinator; the output folder must be the
            same path here as there (a shared volume). Shards are named after the worker (--name, or
            HOUNSFIELD_WORKER_NAME, or the host name with '-' turned into '_'); names must be unique in a run.
            SIGTERM, SIGINT or SIGUSR1 (Slurm's --signal): the series in flight finish, finished units are reported,
            the others handed back, and the worker exits with --stopped-exit-code (0). A coordinator that cannot be
            reached is retried with backoff for 10 minutes (--give-up-after): a coordinator that is rescheduled finds
            its workers still there. A name another live worker holds is refused and retried the same way.
            Exit status: 0 when drained (the run is over), --stopped-exit-code when stopped by a signal, 2 for
            unusable flags or a configuration that cannot run here, 5 when the coordinator was unreachable too long or
            kept refusing the name, 6 when it rejected the token.
            """
    )

    @Option(help: "The coordinator's HOST:PORT.")
    var coordinator: String

    @Option(help: "This worker's name in the run (letters, digits, '_' and '.').")
    var name: String?

    @Option(help: "A file holding the run's shared token (or set HOUNSFIELD_TOKEN).")
    var tokenFile: String?

    @Flag(help: "Connect with TLS, checking the coordinator's certificate against the system's trust roots.")
    var tls = false

    @Option(help: "Connect with TLS, checking the coordinator's certificate against these PEM certificates.")
    var tlsCa: String?

    @Option(help: "Seconds to keep retrying an unreachable coordinator (default 600).")
    var giveUpAfter: Double?

    @Option(help: "Units held at once (default: 2 × jobs + 2, enough to keep the pipeline full).")
    var capacity: Int?

    @Option(help: "Series decoded and transformed at once (each uses all cores).")
    var jobs: Int?

    @Option(help: ArgumentHelp("Benchmarks only: sleep this many seconds per unit instead of converting it.", visibility: .hidden))
    var simulate: Double?

    @Option(help: "Exit status after a stop signal (0 by default; Kubernetes Indexed Jobs want a non-zero one that their podFailurePolicy ignores, so the slot is run again).")
    var stoppedExitCode: Int32 = 0

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard ServiceAddress(parsing: coordinator) != nil else { throw ValidationError("--coordinator takes HOST:PORT") }
        if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let giveUpAfter, giveUpAfter <= 0 { throw ValidationError("--give-up-after must be positive") }
        if let name, !OutputFolder.isValidWorker(name) {
            throw ValidationError("--name '\(name)': use letters, digits, '_' and '.' (no '-'), at most 64")
        }
    }

    func run() async throws {
        logging.bootstrap(minimum: .notice)
        var options = WorkerOptions(coordinator: ServiceAddress(parsing: coordinator)!,
                                    name: name ?? WorkerOptions.defaultName())
        guard OutputFolder.isValidWorker(options.name) else {
            FileHandle.standardError.write(Data("hounsfield worker: the default name '\(options.name)' is not a valid worker name; give --name\n".utf8))
            throw ExitCode(2)
        }
        options.token = try SharedToken.read(file: tokenFile)
        options.capacity = capacity
        options.giveUpAfter = giveUpAfter.map { .milliseconds(Int64($0 * 1000)) }
        options.security = tlsCa.map { .tlsTrusting($0) } ?? (tls ? .tls : .plaintext)
        options.jobs = jobs
        options.simulatedUnitTime = simulate.map { .milliseconds(Int64($0 * 1000)) }
        let worker = Worker(options: options)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: Logger(label: "hounsfield.worker.lifecycle")))
        do {
            try await group.run(stoppingOn: [SIGTERM, SIGINT, SIGUSR1])
            if worker.ending == .stopped, stoppedExitCode != 0 { throw ExitCode(stoppedExitCode) }
        } catch let error as WorkerError {
            FileHandle.standardError.write(Data("hounsfield worker: \(error)\n".utf8))
            switch error {
            case .setup, .refused: throw ExitCode(2)
            case .coordinatorUnreachable: throw ExitCode(5)
            case .unauthenticated: throw ExitCode(6)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("hounsfield worker: \(error)\n".utf8))
            throw ExitCode(5)
        }
    }
}
