import Synchronization

/// Whether the daemon takes new work: `GET /readyz` answers from it, and a load balancer or Kubernetes stops sending
/// while it is false. It is false until every part has started, and false again from the moment the daemon drains
/// (SIGTERM), while in-flight work finishes.
public final class Readiness: Sendable {
    private let state = Mutex<Bool>(false)

    /// Not ready.
    public init() {}

    /// Whether new work is taken.
    public var isReady: Bool { state.withLock { $0 } }

    /// The daemon has started every part.
    public func markReady() { state.withLock { $0 = true } }

    /// The daemon drains: nothing new is taken.
    public func markDraining() { state.withLock { $0 = false } }
}
