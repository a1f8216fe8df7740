import Synchronization

/// When the write stage last did something, so an idle shard can be told apart from a busy one; whether an item
/// finished since the open shard was last published (a worker publishes at every unit's end); and whether the
/// writer still holds memory kept for its next volume.
final class WriterActivity: Sendable {
    private let last = Mutex(ContinuousClock.now)
    private let requested = Atomic<Bool>(false)
    private let holdsMemory = Atomic<Bool>(false)
    let idleAfter: Duration
    /// How long the writer waits for volumes before it hands back the memory it keeps for the next one: a second
    /// (or `idleAfter`, when shorter). Long enough that a stream of studies keeps it (decision 69), short enough
    /// that a daemon between studies holds only what is alive.
    let releaseMemoryAfter: Duration

    init(idleAfter: Duration) {
        self.idleAfter = idleAfter
        self.releaseMemoryAfter = min(idleAfter, .seconds(1))
    }

    /// Asks the write stage to publish the open shard at its next opportunity, busy or not.
    func requestPublication() { requested.store(true, ordering: .releasing) }

    /// Whether a publication was requested and not yet taken.
    var publicationRequested: Bool { requested.load(ordering: .acquiring) }

    /// Takes the request (true once per request).
    func takePublicationRequest() -> Bool { requested.exchange(false, ordering: .acquiringAndReleasing) }

    /// The writer just wrote or published (and so holds memory for the next volume).
    func touch() {
        last.withLock { $0 = .now }
        holdsMemory.store(true, ordering: .releasing)
    }

    /// Nothing was written for `idleAfter`.
    var isIdle: Bool { isQuiet(for: idleAfter) }

    /// The writer holds memory for a next volume that has not come for `releaseMemoryAfter`.
    var shouldReleaseMemory: Bool { holdsMemory.load(ordering: .acquiring) && isQuiet(for: releaseMemoryAfter) }

    /// The writer handed back what it kept; nothing to release until it writes again.
    func memoryReleased() { holdsMemory.store(false, ordering: .releasing) }

    private func isQuiet(for duration: Duration) -> Bool { last.withLock { ContinuousClock.now - $0 >= duration } }
}

/// Makes what a long-running service wrote durable when its input goes quiet: while nothing is written for
/// `idleAfter`, it asks the write stage (through its own channel, so the writer stays single-owner) to publish the
/// open shard. A batch run has no idle publisher: its shards rotate by size and count only, so the same input gives
/// the same shards.
///
/// It also carries requests made while the write stage waits for volumes (an item that finished with a failure in
/// an earlier stage), and tells a writer that has waited ``WriterActivity/releaseMemoryAfter`` to hand back the
/// memory it keeps: those are checked every `tick`.
struct IdlePublisher: Sendable {
    let activity: WriterActivity
    /// How often to look: `idleAfter / 2`, or less when publication requests should be served promptly.
    let tick: Duration

    /// Asks for publication every `tick` while idle or requested, until the write channel closes or the task is
    /// cancelled (the service cancels it as soon as the write stage ends).
    func run(into output: BoundedChannel<WriteRequest>) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: tick) } catch { return }
            guard activity.isIdle || activity.publicationRequested || activity.shouldReleaseMemory else { continue }
            if await !output.send(.publishIfIdle, bytes: 0) { return }
        }
    }
}
