import Synchronization

/// A request's time limit: its work races a timer, and the loser is cancelled. The work's task is a child, so a
/// timed-out request's work is cancelled and awaited (its admission slot is freed by the work itself, never twice)
/// before the answer is sent; upload reads, the wait for a slot and discovery all stop at cancellation, and
/// processing stops between series.
enum RequestDeadline {
    /// What a request is doing, so a timeout can say which part took too long.
    enum Phase: Sendable {
        case uploading, waiting, processing
    }

    /// Where a request's work records its phase.
    final class Progress: Sendable {
        private let phase = Mutex(Phase.uploading)
        /// The phase now.
        var current: Phase { phase.withLock { $0 } }
        /// The work moved on.
        func enter(_ next: Phase) { phase.withLock { $0 = next } }
    }

    /// `work`'s value, or nil when `limit` passed first.
    static func run<Value: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async throws -> Value) async throws -> Value? {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
