/// How the daemon's HTTP API listens and what it admits (`hounsfield serve --http-…`). Every limit is explicit, so
/// a study that is too large, a burst that is too long or a client that is too slow gets an answer that says which
/// limit it met, instead of a daemon that runs out of memory.
public struct HTTPOptions: Sendable {
    /// The address to listen on (default `127.0.0.1`: only this machine; `0.0.0.0` for every interface).
    public var host: String = "127.0.0.1"
    /// The port; 0 picks a free one, which ``HTTPService/boundPort`` then tells.
    public var port: Int = 0
    /// The largest request body taken, in bytes (default 2 GiB): larger ones are answered 413, from their
    /// `Content-Length` before any byte is read, or as soon as a streamed body passes it. A zip body's members may
    /// expand to at most four times this.
    public var maxBodyBytes: Int = 2 << 30
    /// Whether `POST /v1/studies` is served (default true). Without it the listener answers only the probes and
    /// `/metrics`: what a daemon that only receives DICOM needs for Kubernetes and Prometheus, with no way in for
    /// uploads.
    public var servesStudies: Bool = true
    /// Studies processed at once (default 1: one study already uses every core).
    public var concurrentStudies: Int = 1
    /// Requests admitted beyond those being processed (default 4): uploading or waiting for their turn. A request
    /// beyond both is answered 503 with `Retry-After` at once, before its body is read.
    public var queueLength: Int = 4
    /// The `Retry-After` of a 503, in seconds (default 5).
    public var retryAfterSeconds: Int = 5
    /// The token clients must send as `Authorization: Bearer TOKEN` to upload studies; nil (the default) checks
    /// none. `/healthz`, `/readyz` and `/metrics` never ask for it: probes and scrapers carry no secrets, and those
    /// three answer with states and counts only, never identifiers or voxels.
    public var bearerToken: String?
    /// Serve HTTPS with this certificate chain and key (PEM files); nil (the default) serves plain HTTP.
    public var tls: TLS?
    /// How long one request may take from its first byte to its answer, upload and processing included (default
    /// 300 s): a request still uploading then is answered 408, one still waiting or processing 504.
    public var requestTimeout: Duration = .seconds(300)
    /// Responses kept for `Idempotency-Key` replays, at most (default 32; 0 keeps none).
    public var idempotencyCacheEntries: Int = 32
    /// Bytes of responses kept for replays, at most (default 1 GiB); the least recently used go first, and a
    /// response larger than this is not kept.
    public var idempotencyCacheBytes: Int = 1 << 30

    /// The certificate chain and private key of an HTTPS listener, as PEM files.
    public struct TLS: Sendable, Hashable {
        /// The server's certificate, then any intermediates (PEM).
        public var certificatePath: String
        /// The certificate's private key (PEM, unencrypted).
        public var keyPath: String

        /// A listener that presents `certificatePath`, signed with `keyPath`.
        public init(certificatePath: String, keyPath: String) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    /// The defaults: loopback, any free port, 2 GiB bodies, one study at a time and four more waiting, no token,
    /// plain HTTP, 300 s per request, 32 replayable responses up to 1 GiB.
    public init() {}

    /// Checks the values; throws naming the one at fault and what to give instead.
    public func validate() throws(HTTPOptionsError) {
        guard (0...65535).contains(port) else { throw .invalid("port", "must be in 0...65535 (0 picks a free port)") }
        guard maxBodyBytes > 0 else { throw .invalid("maxBodyBytes", "must be positive") }
        guard concurrentStudies >= 1 else { throw .invalid("concurrentStudies", "must be at least 1") }
        guard queueLength >= 0 else { throw .invalid("queueLength", "must be 0 or more") }
        guard retryAfterSeconds >= 0 else { throw .invalid("retryAfterSeconds", "must be 0 or more") }
        guard requestTimeout > .zero else { throw .invalid("requestTimeout", "must be positive") }
        guard idempotencyCacheEntries >= 0, idempotencyCacheBytes >= 0 else {
            throw .invalid("idempotencyCacheEntries/Bytes", "must be 0 or more (0 keeps no responses)")
        }
        if let token = bearerToken, token.isEmpty || token.contains(where: { $0.isWhitespace }) {
            throw .invalid("bearerToken", "give a non-empty token without spaces, or none to check no token")
        }
    }
}

/// An ``HTTPOptions`` value that cannot work.
public enum HTTPOptionsError: Error, CustomStringConvertible {
    /// The option at fault, and what to give instead.
    case invalid(String, String)

    /// One sentence naming the option.
    public var description: String {
        switch self {
        case .invalid(let option, let reason): "HTTP option \(option): \(reason)"
        }
    }
}
