import Synchronization

/// An integer shared by the stage tasks: how many tasks of a stage still run, so the last one to end closes the
/// stage's output channel.
final class SharedCount: Sendable {
    private let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
    /// Subtracts one and returns the new value.
    func decrement() -> Int { value.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue }
}

extension Duration {
    /// The duration in whole nanoseconds, as swift-metrics' timers take it.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
