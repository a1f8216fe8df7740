import Foundation
import HounsfieldPipeline
import Logging
import Prometheus
import ServiceLifecycle

/// `hounsfield serve` as a library: the parts a ``DaemonPlan`` names, as one `ServiceGroup`.
///
/// The services shut down in reverse order of start: readiness goes false first (a load balancer stops sending),
/// then the HTTP API and the DICOM receiver stop taking work, and last the intake finishes the series in flight and
/// publishes them. What was not processed stays in the spool and the watch folder for the next start.
public final class Daemon: Sendable {
    /// What runs.
    public let plan: DaemonPlan
    /// Whether new work is taken (`GET /readyz`).
    public let readiness = Readiness()
    /// The DICOM receiver, when configured.
    public let receiver: ReceiverService?
    /// The intake: spool and watch folder into the pipeline.
    public let intake: IntakeService
    /// The HTTP API, when configured.
    public let http: HTTPService?
    private let logger: Logger

    /// Opens the spool (taking up what a stopped daemon left) and builds the parts. Throws when the spool cannot be
    /// opened or the configuration cannot run.
    public init(plan: DaemonPlan, metrics: PrometheusCollectorRegistry? = nil, logger: Logger = Logger(label: "hounsfield.daemon")) throws {
        self.plan = plan
        self.logger = logger
        let spool = try plan.receiver.map { _ in try Spool(folder: plan.spoolFolder, minimumFreeBytes: plan.spoolMinimumFree) }
        receiver = plan.receiver.map { ReceiverService(options: $0, spool: spool!, logger: logger) }
        intake = try IntakeService(configuration: plan.configuration, spool: spool, watch: plan.watch, settings: plan.intake,
                                   logger: logger)
        if let options = plan.httpOptions {
            http = try HTTPService(options: options, preprocessor: Preprocessor(configuration: plan.configuration),
                                   readiness: readiness, metrics: metrics, logger: logger)
        } else {
            http = nil
        }
    }

    /// The service group: run it with `run()`, or with the caller's signal handling.
    public func serviceGroup() -> ServiceGroupConfiguration {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: intake, successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let receiver {
            services.append(.init(service: receiver, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        if let http {
            services.append(.init(service: http, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: ReadinessGate(daemon: self, logger: logger)))
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = plan.shutdownTimeout
        return configuration
    }
}

/// Marks the daemon ready once every listening part listens, and draining at the first sign of shutdown (it is the
/// last service, so the first told to stop).
struct ReadinessGate: Service {
    let daemon: Daemon
    let logger: Logger

    func run() async throws {
        var listening: Logger.Metadata = [:]
        if let receiver = daemon.receiver {
            guard let port = await receiver.port() else { return }
            listening["dicom"] = "\(receiver.options.host):\(port)"
        }
        if let http = daemon.http {
            guard let port = await http.waitForPort() else { return }
            listening["http"] = "\(daemon.plan.httpOptions?.host ?? ""):\(port)"
        }
        if let watch = daemon.plan.watch { listening["watch"] = "\(watch.folder.path)" }
        listening["output"] = "\(daemon.plan.configuration.output.folder ?? "")"
        daemon.readiness.markReady()
        logger.notice("ready", metadata: listening)
        try? await gracefulShutdown()
        daemon.readiness.markDraining()
        logger.notice("draining: taking nothing new, finishing the work in flight")
    }
}
