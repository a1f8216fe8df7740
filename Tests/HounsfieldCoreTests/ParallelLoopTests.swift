import HounsfieldCore
import Synchronization
import Testing

@Suite("Parallel loops")
struct ParallelLoopTests {
    /// Every index once, whatever the split and the stealing; each worker's indices increase between steals.
    @Test("forEachContiguously hands out every index exactly once, in increasing runs",
          arguments: [(1, 1), (1, 4), (2, 2), (7, 2), (375, 2), (375, 3), (1000, 8)])
    func contiguousCoversEveryIndexOnce(_ count: Int, _ concurrency: Int) {
        let taken = Mutex<[[Int]]>([])
        ParallelLoop.forEachContiguously(count, concurrency: concurrency) { next in
            var mine: [Int] = []
            while let index = next() { mine.append(index) }
            taken.withLock { $0.append(mine) }
        }
        let workers = taken.withLock { $0 }
        #expect(workers.flatMap { $0 }.sorted() == Array(0..<count))
        #expect(workers.count <= max(1, min(concurrency, count)))
        for indices in workers {
            // Runs of consecutive indices, one per share taken: a worker's first share, then one per steal (each
            // steal halves a share of at least two, so there are fewer than count of them).
            let runs = 1 + zip(indices, indices.dropFirst()).filter { $1 != $0 + 1 }.count
            #expect(runs < max(2, count))
        }
    }

    /// Dispatch releases a block after it returns, which can be after the caller resumed; the work (and what it
    /// captured, such as a volume just written) must not live that long.
    @Test("offload releases the work and what it captured before the caller resumes")
    func offloadReleasesItsWork() async {
        for _ in 0..<200 {
            let released = ReleaseFlag()
            let value = await ParallelLoop.offload(Self.work(capturing: Token(released)))
            #expect(value == 7)
            #expect(released.isSet)
        }
    }

    /// A closure that holds `token`; the caller keeps no other reference.
    private static func work(capturing token: Token) -> @Sendable () -> Int { { token.value } }

    @Test("forEachContiguously with nothing to do calls no worker")
    func contiguousEmpty() {
        let calls = Atomic<Int>(0)
        ParallelLoop.forEachContiguously(0) { _ in calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 0)
    }
}

/// Set when a `Token` is released.
private final class ReleaseFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

private final class Token: Sendable {
    let value = 7
    private let released: ReleaseFlag
    init(_ released: ReleaseFlag) { self.released = released }
    deinit { released.set() }
}
