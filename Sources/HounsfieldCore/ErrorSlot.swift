import Synchronization

/// Keeps the first error raised by any of several worker threads of a parallel loop, which cannot throw across
/// threads themselves.
public final class ErrorSlot<Failure: Error & Sendable>: Sendable {
    private let storage = Mutex<Failure?>(nil)

    /// An empty slot.
    public init() {}

    /// Records `error` unless an earlier one is already kept.
    public func record(_ error: Failure) { storage.withLock { $0 = $0 ?? error } }

    /// The first error recorded, or nil when every worker succeeded; read it after the loop has returned.
    public var first: Failure? { storage.withLock { $0 } }
}
