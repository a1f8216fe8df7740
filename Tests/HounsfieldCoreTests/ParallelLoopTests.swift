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

    @Test("forEachContiguously with nothing to do calls no worker")
    func contiguousEmpty() {
        let calls = Atomic<Int>(0)
        ParallelLoop.forEachContiguously(0) { _ in calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 0)
    }
}
