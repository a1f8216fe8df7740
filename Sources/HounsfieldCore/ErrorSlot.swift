import Synchronization

/// Keeps the first error raised by any of several worker threads of a parallel loop, which cannot throw across
/// threads themselves.
public final class ErrorSlot<Failure: Error & Sendable>: Sendable {
    private let storage = Mutex<Failure?>(nil)

    public init() {}

    /// Records `error` unless an earlier one is already kept.
    public func record(_ error: Failure) { storage.withLock { $0 = $0 ?? error } }

    public var first: Failure? { storage.withLock { $0 } }
}
