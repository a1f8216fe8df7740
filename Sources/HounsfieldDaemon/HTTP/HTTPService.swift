import HounsfieldPipeline
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The daemon's HTTP API (`hounsfield serve`): per-study preprocessing over HTTP, health and readiness probes and
/// Prometheus metrics, on Hummingbird, as a swift-service-lifecycle `Service`. Routes: ``HTTPAPI``; the study
/// endpoint: ``StudyEndpoint``; limits: ``HTTPOptions``.
///
/// Under a `ServiceGroup`, graceful shutdown stops accepting connections, closes idle ones, and lets requests in
/// flight finish (their studies processed and answered) before ``run()`` returns; the group's cancellation ends them.
public final class HTTPService: Service, Sendable {
    private let options: HTTPOptions
    private let preprocessor: Preprocessor
    private let readiness: Readiness
    private let registry: PrometheusCollectorRegistry?
    private let logger: Logger
    private let listening = PortAnnouncement()
    /// The admission of studies (internal: tests hold it to fill the queue).
    let gate: AdmissionGate
    /// Kept answers for `Idempotency-Key` replays.
    let cache: IdempotencyCache
    private let beforeProcessing: (@Sendable () async throws -> Void)?

    /// A service that processes uploads with `preprocessor` (its configuration decides selection, chain and dtype,
    /// exactly as `hounsfield run`), answers `/readyz` from `readiness` and `/metrics` from `metrics` (nil: no
    /// `/metrics`; the HTTP metrics then go to the bootstrapped swift-metrics system). Throws when `options` do not
    /// validate.
    public convenience init(options: HTTPOptions, preprocessor: Preprocessor, readiness: Readiness,
                            metrics: PrometheusCollectorRegistry?, logger: Logger) throws(HTTPOptionsError) {
        try self.init(options: options, preprocessor: preprocessor, readiness: readiness, metrics: metrics, logger: logger,
                      beforeProcessing: nil)
    }

    /// The same, with a hook run in the processing slot before each study (tests).
    init(options: HTTPOptions, preprocessor: Preprocessor, readiness: Readiness, metrics: PrometheusCollectorRegistry?,
         logger: Logger, beforeProcessing: (@Sendable () async throws -> Void)?) throws(HTTPOptionsError) {
        try options.validate()
        self.options = options
        self.preprocessor = preprocessor
        self.readiness = readiness
        self.registry = metrics
        self.logger = logger
        self.gate = AdmissionGate(processing: options.concurrentStudies, waiting: options.queueLength)
        self.cache = IdempotencyCache(maxEntries: options.idempotencyCacheEntries, maxBytes: options.idempotencyCacheBytes)
        self.beforeProcessing = beforeProcessing
    }

    /// The port listened on, once ``run()`` has bound it (the chosen one when ``HTTPOptions/port`` is 0); nil before.
    public var boundPort: Int? { listening.port }

    /// Waits until ``run()`` has bound its port and returns it; nil when `run()` ended (or this task was cancelled)
    /// without binding.
    public func waitForPort() async -> Int? { await listening.wait() }

    /// Binds and serves until graceful shutdown or cancellation. Throws when the address cannot be bound or the TLS
    /// files cannot be read.
    public func run() async throws {
        defer { listening.end() }
        let metrics = HTTPMetrics(registry: registry)
        let studies = StudyEndpoint(options: options, preprocessor: preprocessor, readiness: readiness, gate: gate,
                                    cache: cache, metrics: metrics, logger: logger, beforeProcessing: beforeProcessing)
        let api = HTTPAPI(studies: options.servesStudies ? studies : nil, readiness: readiness, registry: registry,
                          token: options.bearerToken.map(BearerToken.init), metrics: metrics)
        // Idle keep-alive connections are closed after a minute; a request in progress is never cut by this.
        let maxBodyBytes = options.maxBodyBytes
        var server = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: [ExpectContinueHandler(maxBodyBytes: maxBodyBytes)], idleTimeout: .seconds(60)))
        if let tls = options.tls { server = try .tls(server, tlsConfiguration: try Self.tlsConfiguration(tls)) }
        let listening = self.listening, logger = self.logger, scheme = options.tls == nil ? "http" : "https"
        let servesStudies = options.servesStudies
        let application = Application(
            responder: api, server: server,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                listening.announce(port)
                logger.notice(servesStudies ? "HTTP API listening" : "HTTP API listening (probes and metrics only: no studies)",
                              metadata: ["url": "\(scheme)://\(channel.localAddress?.ipAddress ?? "?"):\(port)"])
            },
            logger: logger)
        try await application.run()
    }

    /// NIOSSL's server configuration from the PEM files, with errors that name the file.
    private static func tlsConfiguration(_ tls: HTTPOptions.TLS) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath) } catch {
            throw HTTPOptionsError.invalid("tls.certificatePath", "\(tls.certificatePath) holds no PEM certificate (\(error))")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem) } catch {
            throw HTTPOptionsError.invalid("tls.keyPath", "\(tls.keyPath) holds no unencrypted PEM private key (\(error))")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}
