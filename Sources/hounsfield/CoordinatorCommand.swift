import ArgumentParser
import Foundation
import Hounsfield
import HounsfieldDistributed
import Logging
import ServiceLifecycle

struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Fan a run's study folders out to `hounsfield worker` processes over gRPC, and keep the books.",
        discussion: """
            The unit of work is a study folder: by default each immediate subfolder of each INPUT (--depth), or one
            folder per line of --units-from. An nnU-Net raw dataset (a folder with imagesTr/ or imagesTs/) met on the
            way is split into its cases, one unit each. The coordinator never reads headers; workers discover the series
            inside their units and write shards straight into --output, which every worker must see at the same path
            (a shared volume). A volume is listed in manifest.jsonl once its unit is done, each key once.
            The journal (<output>/.hounsfield/journal.sqlite) holds every unit, lease and outcome: started again with
            the same arguments, the coordinator resumes where it stopped. The chosen address is written to
            <output>/.hounsfield/coordinator.address (useful with port 0).
            The token comes from --token-file or HOUNSFIELD_TOKEN (never a flag: it would show in `ps`); without one
            the coordinator listens only on loopback, unless --insecure.
            Exit status: 0 when every unit is done and every series written, 3 when some series failed or some units
            were quarantined (see report.json), 2 for unusable flags, inputs or output, 130 when stopped by SIGTERM
            or Ctrl-C before the end (start it again to resume).
            """,
        subcommands: [ServeCoordinator.self, CoordinatorStatus.self],
        defaultSubcommand: ServeCoordinator.self
    )
}

/// `hounsfield coordinator [serve] INPUT... --output DIR --listen HOST:PORT`.
struct ServeCoordinator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the coordinator (the default: `hounsfield coordinator INPUT...`).")

    @Argument(help: "Folders whose subfolders (at --depth) are study folders.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder, shared by every worker at the same path.")
    var output: String

    @OptionGroup var job: JobOptions

    @Option(help: "HOST:PORT to listen on (port 0: any free port).")
    var listen = "127.0.0.1:7171"

    @Option(help: "How many levels below each input the study folders are (0: the inputs themselves).")
    var depth = 1

    @Option(help: "A file listing one study folder per line, instead of INPUT folders.")
    var unitsFrom: String?

    @Option(help: "Seconds a lease lives without a heartbeat; workers heartbeat every third of it.")
    var leaseTtl: Int = 60

    @Option(help: "Distinct workers a unit may take down or stall before it is quarantined.")
    var quarantineAfter = 3

    @Option(help: "A file holding the run's shared token (or set HOUNSFIELD_TOKEN).")
    var tokenFile: String?

    @Option(help: "TLS: the coordinator's certificate chain (PEM); with --tls-key. Workers then need --tls or --tls-ca.")
    var tlsCertificate: String?

    @Option(help: "TLS: the coordinator's private key (PEM).")
    var tlsKey: String?

    @Flag(help: "Listen on a non-loopback address without a token (a network you trust only).")
    var insecure = false

    @Option(help: "Where the journal lives (default: <output>/.hounsfield/journal.sqlite). SQLite needs working POSIX locks and must survive restarts: not NFS, not a node-local disk the next start cannot see.")
    var journal: String?

    @Option(help: "HOST:PORT to serve Prometheus metrics on, at /metrics (e.g. 0.0.0.0:9171).")
    var metrics: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard ServiceAddress(parsing: listen) != nil else { throw ValidationError("--listen takes HOST:PORT, e.g. 0.0.0.0:7171") }
        if let metrics, ServiceAddress(parsing: metrics) == nil { throw ValidationError("--metrics takes HOST:PORT, e.g. 0.0.0.0:9171") }
        guard depth >= 0 else { throw ValidationError("--depth must be 0 or more") }
        guard leaseTtl >= 3 else { throw ValidationError("--lease-ttl must be at least 3 seconds") }
        guard quarantineAfter >= 1 else { throw ValidationError("--quarantine-after must be at least 1") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("TLS needs both --tls-certificate and --tls-key")
        }
        guard unitsFrom != nil || !inputs.isEmpty else {
            throw ValidationError("give the folders that hold the study folders, or --units-from FILE")
        }
    }

    func run() async throws {
        logging.bootstrap(minimum: .notice)
        let coordinator: RunCoordinator
        do {
            var configuration = try job.configuration()
            configuration.output.folder = output
            try configuration.validate()
            var options = CoordinatorOptions(
                studies: unitsFrom.map { .listed(file: $0) } ?? .folders(inputs: inputs, depth: depth))
            options.listen = ServiceAddress(parsing: listen)!
            options.token = try SharedToken.read(file: tokenFile)
            options.insecure = insecure
            if let tlsCertificate, let tlsKey { options.tls = (tlsCertificate, tlsKey) }
            options.leaseTTL = .seconds(leaseTtl)
            options.quarantineAfter = quarantineAfter
            options.journalPath = journal
            coordinator = try RunCoordinator(configuration: configuration, options: options)
        } catch {
            FileHandle.standardError.write(Data("hounsfield coordinator: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: coordinator, successTerminationBehavior: .gracefullyShutdownGroup)]
        if let metrics {
            services.append(.init(service: MetricsExport.bootstrap(serving: ServiceAddress(parsing: metrics)!)))
        }
        let group = ServiceGroup(configuration: .init(
            services: services, logger: Logger(label: "hounsfield.coordinator.lifecycle")))
        do {
            try await group.run(stoppingOn: [SIGTERM, SIGINT])
        } catch {
            FileHandle.standardError.write(Data("hounsfield coordinator: \(error)\n".utf8))
            throw ExitCode(2)
        }
        guard let summary = coordinator.summary else { throw ExitCode(130) }
        let units = summary.units
        print("units: \(units.done) done, \(units.quarantined) quarantined, \(units.failed) failed, \(units.pending + units.leased) left of \(units.total); series: \(summary.written) written, \(summary.failedSeries) failed")
        guard summary.finished else { throw ExitCode(130) }
        if summary.failedSeries > 0 || units.quarantined > 0 || units.failed > 0 { throw ExitCode(3) }
    }
}

/// The run's shared token: from a file or `HOUNSFIELD_TOKEN`, never from a flag value (which `ps` shows).
enum SharedToken {
    static func read(file: String?) throws -> String? {
        if let file {
            do {
                return try TokenFile.read(file)
            } catch {
                switch error {
                case .unreadable: throw ValidationError("cannot read the token file \(file)")
                case .empty: throw ValidationError("the token file \(file) is empty")
                }
            }
        }
        if let token = ProcessInfo.processInfo.environment["HOUNSFIELD_TOKEN"], !token.isEmpty { return token }
        return nil
    }
}

/// `hounsfield coordinator status --output DIR`: progress, rate, ETA and workers, from the journal.
struct CoordinatorStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a coordinated run's progress, rate, ETA and workers (from its journal).")

    @Option(name: .shortAndLong, help: "The run's output folder.")
    var output: String?

    @Option(help: "The journal, when it is not <output>/.hounsfield/journal.sqlite.")
    var journal: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard output != nil || journal != nil else { throw ValidationError("give the run's --output folder (or --journal)") }
    }

    func run() throws {
        let path = journal ?? URL(fileURLWithPath: output!).appendingPathComponent(".hounsfield/journal.sqlite").path
        guard FileManager.default.fileExists(atPath: path) else {
            FileHandle.standardError.write(Data("hounsfield coordinator status: no journal at \(path): is this the output folder of a coordinated run?\n".utf8))
            throw ExitCode(2)
        }
        let status = try RunStatus(journal: try Journal(path: path))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
        } else {
            print(status.rendered)
        }
    }
}
