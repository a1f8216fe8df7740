import Synchronization

/// When the write stage last did something, so an idle shard can be told apart from a busy one; and whether an
/// item finished since the open shard was last published (a worker publishes at every unit's end).
final class WriterActivity: Sendable {
    private let last = Mutex(ContinuousClock.now)
    private let requested = Atomic<Bool>(false)
    let idleAfter: Duration

    init(idleAfter: Duration) { self.idleAfter = idleAfter }

    /// Asks the write stage to publish the open shard at its next opportunity, busy or not.
    func requestPublication() { requested.store(true, ordering: .releasing) }

    /// Whether a publication was requested and not yet taken.
    var publicationRequested: Bool { requested.load(ordering: .acquiring) }

    /// Takes the request (true once per request).
    func takePublicationRequest() -> Bool { requested.exchange(false, ordering: .acquiringAndReleasing) }

    /// The writer just wrote or published.
    func touch() { last.withLock { $0 = .now } }

    /// Nothing was written for `idleAfter`.
    var isIdle: Bool { last.withLock { ContinuousClock.now - $0 >= idleAfter } }
}

/// Makes what a long-running service wrote durable when its input goes quiet: while nothing is written for
/// `idleAfter`, it asks the write stage (through its own channel, so the writer stays single-owner) to publish the
/// open shard. A batch run has no idle publisher: its shards rotate by size and count only, so the same input gives
/// the same shards.
///
/// It also carries requests made while the write stage waits for volumes (an item that finished with a failure in
/// an earlier stage): those are checked every `tick`.
struct IdlePublisher: Sendable {
    let activity: WriterActivity
    /// How often to look: `idleAfter / 2`, or less when publication requests should be served promptly.
    let tick: Duration

    /// Asks for publication every `tick` while idle or requested, until the write channel closes or the task is
    /// cancelled (the service cancels it as soon as the write stage ends).
    func run(into output: BoundedChannel<WriteRequest>) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: tick) } catch { return }
            if activity.isIdle || activity.publicationRequested, await !output.send(.publishIfIdle, bytes: 0) { return }
        }
    }
}
