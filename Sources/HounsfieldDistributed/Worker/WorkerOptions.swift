import Foundation

/// How a worker finds its coordinator and how much work it takes (`hounsfield worker` flags). Everything about the
/// job itself (the configuration, the output folder) comes from the coordinator.
public struct WorkerOptions: Sendable {
    /// The coordinator's address.
    public var coordinator: ServiceAddress
    /// The run's shared token, when the coordinator requires one.
    public var token: String?
    /// How the session is secured.
    public enum Security: Sendable, Equatable {
        /// Plaintext HTTP/2 (a private network, or a tunnel).
        case plaintext
        /// TLS, the coordinator's certificate checked against the system's trust roots.
        case tls
        /// TLS, the coordinator's certificate checked against these PEM certificates (a run's own CA).
        case tlsTrusting(String)
    }

    /// Plaintext unless told otherwise; with TLS the coordinator's host name (or IP address) must be in its
    /// certificate.
    public var security: Security = .plaintext
    /// The worker's name: unique in the run, in its shard names, leases and logs. Letters, digits, `_` and `.`.
    public var name: String
    /// Units held at once; nil: enough to keep the pipeline full (see ``effectiveCapacity``).
    public var capacity: Int?
    /// Series decoded and transformed at once (`--jobs`); nil: the configuration's default.
    public var jobs: Int?
    /// The units the worker asks to hold: ``capacity``, or by default two per series the pipeline works on at once
    /// plus two. A study is usually one series, and a unit is reported only once its shard is published: with one
    /// unit in hand and one waiting, the pipeline's decoders, transformers and writer would take turns instead of
    /// overlapping (25% slower than `hounsfield run` on 24 series, measured).
    public var effectiveCapacity: Int { max(1, capacity ?? 2 * (jobs ?? 1) + 2) }

    /// Benchmarks only: instead of converting a unit, sleep this long and report it complete with no series. Lets
    /// one machine stand in for hundreds of workers, to measure the coordinator's side of a run at scale.
    public var simulatedUnitTime: Duration?
    /// How long to keep trying a coordinator that cannot be reached before giving up (`nil`: 10 minutes, long
    /// enough for a coordinator to be rescheduled and to list a large archive again).
    public var giveUpAfter: Duration?

    /// Options for a worker named `name` of the coordinator at `coordinator`.
    public init(coordinator: ServiceAddress, name: String) {
        self.coordinator = coordinator
        self.name = name
    }

    /// A default worker name from the environment: `HOUNSFIELD_WORKER_NAME`, else the host name with every
    /// character a worker name does not allow turned into `_` (Kubernetes pod names hold `-`).
    public static func defaultName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let name = environment["HOUNSFIELD_WORKER_NAME"], !name.isEmpty { return name }
        let host = ProcessInfo.processInfo.hostName
        return String(host.prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") ? $0 : "_" })
    }
}

/// Why a worker stopped without finishing its part of the run.
public enum WorkerError: Error, Sendable, CustomStringConvertible {
    /// The coordinator could not be reached (or kept dropping the session) for too long.
    case coordinatorUnreachable(ServiceAddress, since: Duration, lastError: String)
    /// The coordinator refused the worker (a configuration of its own that is not the run's).
    case refused(String)
    /// The coordinator rejected the token.
    case unauthenticated(ServiceAddress)
    /// The coordinator's configuration or output folder cannot be used here.
    case setup(String)

    public var description: String {
        switch self {
        case let .coordinatorUnreachable(address, since, lastError):
            "no coordinator at \(address) for \(Int(since.inSeconds)) s (last error: \(lastError)); is it running, and is the address right? Units this worker held go to other workers when their leases expire"
        case .refused(let detail):
            "the coordinator refused this worker: \(detail)"
        case .unauthenticated(let address):
            "the coordinator at \(address) rejected the token: give the run's token (--token-file or HOUNSFIELD_TOKEN)"
        case .setup(let message):
            message
        }
    }
}
