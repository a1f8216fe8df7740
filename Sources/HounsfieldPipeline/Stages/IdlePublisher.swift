import Synchronization

/// When the write stage last did something, so an idle shard can be told apart from a busy one.
final class WriterActivity: Sendable {
    private let last = Mutex(ContinuousClock.now)
    let idleAfter: Duration

    init(idleAfter: Duration) { self.idleAfter = idleAfter }

    /// The writer just wrote or published.
    func touch() { last.withLock { $0 = .now } }

    /// Nothing was written for `idleAfter`.
    var isIdle: Bool { last.withLock { ContinuousClock.now - $0 >= idleAfter } }
}

/// Makes what a long-running service wrote durable when its input goes quiet: while nothing is written for
/// `idleAfter`, it asks the write stage (through its own channel, so the writer stays single-owner) to publish the
/// open shard. A batch run has no idle publisher: its shards rotate by size and count only, so the same input gives
/// the same shards.
struct IdlePublisher: Sendable {
    let activity: WriterActivity

    /// Asks for publication every `idleAfter / 2` while idle, until the write channel closes or the task is cancelled.
    func run(into output: BoundedChannel<WriteRequest>) async {
        let tick = activity.idleAfter / 2
        while !Task.isCancelled {
            do { try await Task.sleep(for: tick) } catch { return }
            if activity.isIdle, await !output.send(.publishIfIdle, bytes: 0) { return }
        }
    }
}
