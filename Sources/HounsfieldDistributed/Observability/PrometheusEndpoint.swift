import Atomics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// Serves a Prometheus registry as text at `GET /metrics` (swift-prometheus), for the long-running processes
/// (`hounsfield coordinator --metrics HOST:PORT`).
///
/// Deliberately small: HTTP/1.1, one request per connection (the response closes it), anything but `GET /metrics`
/// answered 404 or 405, request heads over 8 KiB refused, idle connections closed after 10 s, and at most 64
/// connections at once. It exposes counts and rates, never paths or identifiers, so it carries no token; bind it to
/// an address only the scraper reaches.
public final class PrometheusEndpoint: Service, Sendable {
    private let registry: PrometheusCollectorRegistry
    private let address: ServiceAddress
    private let logger: Logger
    private let bound = Mutex<Int?>(nil)

    /// An endpoint for `registry` on `address` (port 0: any free port, see ``port``).
    public init(registry: PrometheusCollectorRegistry, address: ServiceAddress,
                logger: Logger = Logger(label: "hounsfield.metrics")) {
        self.registry = registry
        self.address = address
        self.logger = logger
    }

    /// The port listened on, once ``run()`` has bound it.
    public var port: Int? { bound.withLock { $0 } }

    /// Binds the address and serves until graceful shutdown. Throws when the address cannot be bound.
    public func run() async throws {
        let registry = self.registry
        let open = ManagedAtomic(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.wrappingIncrementThenLoad(ordering: .relaxed) <= 64 else {
                    open.wrappingDecrement(ordering: .relaxed)
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandlers(
                        IdleStateHandler(allTimeout: .seconds(10)), MetricsHandler(registry: registry))
                }
            }
            .bind(host: address.host == "localhost" ? "127.0.0.1" : address.host, port: address.port).get()
        bound.withLock { $0 = channel.localAddress?.port }
        logger.notice("metrics served", metadata: ["address": "\(address.host):\(channel.localAddress?.port ?? 0)", "path": "/metrics"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Answers one request per connection: the registry's text for `GET /metrics`.
private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let (status, body): (HTTPResponseStatus, [UInt8]) =
            switch (head.method, head.uri.split(separator: "?").first ?? "") {
            case (.GET, "/metrics"): (.ok, registry.emitToBuffer())
            case (_, "/metrics"): (.methodNotAllowed, Array("only GET\n".utf8))
            default: (.notFound, Array("metrics are at /metrics\n".utf8))
            }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
