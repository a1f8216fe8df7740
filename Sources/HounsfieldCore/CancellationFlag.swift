import Synchronization

/// Set once from a task's cancellation handler, read by the Dispatch threads doing that task's work, which cannot
/// see `Task.isCancelled` themselves.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A flag not yet set.
    public init() {}

    /// Whether the work should stop.
    public var isSet: Bool { flag.load(ordering: .relaxed) }

    /// Asks the work to stop.
    public func set() { flag.store(true, ordering: .relaxed) }
}
