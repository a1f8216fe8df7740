import ArgumentParser
import Foundation
import Hounsfield
import HounsfieldDaemon
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the preprocessing daemon: a DICOM receiver, a watch folder and an HTTP API feeding rolling shards.",
        discussion: """
            Each part runs when configured (flags, or the `serve` section of --config; see docs/daemon.md):
            --dicom-port starts the DICOM receiver (C-STORE, C-ECHO), --watch a watch folder, --http-port the HTTP API
            (POST /v1/studies, /healthz, /readyz, /metrics). Received instances are written, synced and recorded in
            the spool (--spool, default: OUTPUT.spool beside the output folder) before the sender hears success; a
            series is processed once it has received nothing for --quiet-seconds, into the output folder's shards and
            manifest, exactly as `hounsfield run` would with the same processing flags.
            SIGTERM or SIGINT: readiness goes false, nothing new is accepted, the work in flight finishes and is
            published, and the daemon exits 0; what was not processed stays in the spool for the next start.
            Exit status: 0 after a shutdown, 2 for unusable flags or configuration, 1 when a part cannot start (a port
            in use) or the output fails.
            """
    )

    @Option(name: .shortAndLong, help: "Output folder (shards and manifest).")
    var output: String?

    @OptionGroup var job: JobOptions

    @Option(help: "Spool folder for received instances (default: the output folder's path with .spool added).")
    var spool: String?

    @Option(help: "Hours the instances of a processed series stay in the spool (default: kept; a late instance then makes a whole next version).")
    var spoolRetainHours: Double?

    @Option(help: "Start the DICOM receiver on this port.")
    var dicomPort: Int?

    @Option(help: "IPv4 address the DICOM receiver listens on (default 0.0.0.0).")
    var dicomHost: String?

    @Option(help: "The receiver's AE title (default HOUNSFIELD).")
    var aeTitle: String?

    @Option(name: .customLong("allow-calling-ae"), help: "A calling AE title allowed to send (repeat for more; default: any).")
    var allowedCallingAETitles: [String] = []

    @Option(help: "Watch this folder for study folders.")
    var watch: String?

    @Option(help: "Seconds a study folder in the watch folder must stay unchanged before it is taken (default 30).")
    var stableSeconds: Double?

    @Option(help: "Start the HTTP API on this port.")
    var httpPort: Int?

    @Option(help: "Address the HTTP API listens on (default 127.0.0.1).")
    var httpHost: String?

    @Flag(help: "Serve only the probes and /metrics on the HTTP port, no POST /v1/studies (a receiver-only daemon).")
    var noHttpStudies = false

    @Option(help: "A file holding the bearer token HTTP requests must carry (or set HOUNSFIELD_TOKEN).")
    var tokenFile: String?

    @Option(help: "Seconds a series must receive nothing before it is processed (default 30).")
    var quietSeconds: Double?

    @Option(help: "Seconds a shutdown may take to finish the work in flight (default 30).")
    var shutdownTimeout: Double?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let quietSeconds, quietSeconds <= 0 { throw ValidationError("--quiet-seconds must be positive") }
        if let spoolRetainHours, spoolRetainHours <= 0 {
            throw ValidationError("--spool-retain-hours must be positive (leave it out to keep every instance)")
        }
        if let shutdownTimeout, shutdownTimeout < 0 { throw ValidationError("--shutdown-timeout must be 0 or more seconds") }
    }

    func run() async throws {
        logging.bootstrap(minimum: .notice)
        let daemon: Daemon
        do {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            daemon = try Daemon(plan: try plan(), metrics: registry)
        } catch {
            FileHandle.standardError.write(Data("hounsfield serve: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            try await ServiceGroup(configuration: daemon.serviceGroup()).run(stoppingOn: [SIGTERM, SIGINT])
        } catch {
            FileHandle.standardError.write(Data("hounsfield serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The configuration file (with its `serve` section), then the flags.
    func plan() throws -> DaemonPlan {
        var settings = ServeSettings()
        var base: RunConfiguration?
        if let path = job.config {
            let (configuration, section) = try ConfigurationFile.load(path, handingBack: "serve")
            base = configuration
            if let section { settings = try ServeSettings.decode(section) }
        }
        var configuration = try job.configuration(base: base)
        if let output { configuration.output.folder = output }
        if let spool { settings.spool.folder = spool }
        if let spoolRetainHours { settings.spool.retainHours = spoolRetainHours }
        if dicomPort != nil || dicomHost != nil || aeTitle != nil || !allowedCallingAETitles.isEmpty {
            var dicom = settings.dicom ?? .init()
            dicom.port = dicomPort ?? dicom.port
            dicom.host = dicomHost ?? dicom.host
            dicom.aeTitle = aeTitle ?? dicom.aeTitle
            if !allowedCallingAETitles.isEmpty { dicom.allowedCallingAeTitles = allowedCallingAETitles }
            settings.dicom = dicom
        }
        if watch != nil || stableSeconds != nil {
            var section = settings.watch ?? .init()
            section.folder = watch ?? section.folder
            section.stableSeconds = stableSeconds ?? section.stableSeconds
            settings.watch = section
        }
        if httpPort != nil || httpHost != nil || tokenFile != nil || noHttpStudies {
            var http = settings.http ?? .init()
            http.port = httpPort ?? http.port
            http.host = httpHost ?? http.host
            http.tokenFile = tokenFile ?? http.tokenFile
            if noHttpStudies { http.studies = false }
            settings.http = http
        }
        if let quietSeconds { settings.quietSeconds = quietSeconds }
        if let shutdownTimeout { settings.shutdownSeconds = shutdownTimeout }
        return try DaemonPlan(configuration: configuration, settings: settings,
                              environmentToken: ProcessInfo.processInfo.environment["HOUNSFIELD_TOKEN"])
    }
}
