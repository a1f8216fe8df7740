import Synchronization

/// Keeps the first error raised by any of several worker threads of a parallel loop, which cannot throw across
/// threads themselves.
package final class ErrorSlot<Failure: Error & Sendable>: Sendable {
    private let storage = Mutex<Failure?>(nil)

    /// An empty slot.
    package init() {}

    /// Records `error` unless an earlier one is already kept.
    package func record(_ error: Failure) { storage.withLock { $0 = $0 ?? error } }

    /// The first error recorded, or nil when every worker succeeded; read it after the loop has returned.
    package var first: Failure? { storage.withLock { $0 } }
}
