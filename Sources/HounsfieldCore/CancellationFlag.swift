import Synchronization

/// Set once from a task's cancellation handler, read by the Dispatch threads doing that task's work, which cannot
/// see `Task.isCancelled` themselves.
package final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A flag not yet set.
    package init() {}

    /// Whether the work should stop.
    package var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Asks the work to stop.
    package func set() { flag.store(true, ordering: .relaxed) }
}
