import Dispatch
import HounsfieldCore
@testable import HounsfieldHDF5
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Ordered commit of encoded chunks")
struct OrderedCommitTests {
    /// A writer slower than the encoders must hold them back: at most `window` chunks wait beyond the run being
    /// written, so a held-up write cannot fill memory with the rest of the volume.
    /// Random encode and write times, many times over: a worker woken to find it must wait again once took the
    /// wake-up owed to the worker holding the chunk due, and both waited for ever.
    @Test("chunks are written in order, and encoders stay within the window of a slow writer",
          arguments: [(1, 2), (1, 4), (2, 2), (2, 3), (4, 4)])
    func boundedByWindow(_ window: Int, _ workers: Int) {
        for round in 0..<30 {
            let commit = OrderedCommit(window: window)
            let written = Mutex<[Int]>([])
            // Chunks that passed `waitForTurn` and are not written yet, and the most there ever were.
            let held = Mutex((now: 0, most: 0))
            var random = SplitMix64(seed: UInt64(round * 31 + window * 7 + workers))
            let delays = (0..<26).map { _ in (encode: UInt32((random.next() as UInt64) % 400), write: UInt32((random.next() as UInt64) % 800)) }
            ParallelLoop.forEach(delays.count, concurrency: workers) { index in
                guard commit.waitForTurn(index) else { return }
                held.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                usleep(delays[index].encode)
                var run = commit.deposit(index, EncodedChunk(bytes: [UInt8(index)], filterMask: 0))
                while !run.isEmpty {
                    for (chunk, encoded) in run {
                        usleep(delays[chunk].write)  // a write held up by the disk
                        #expect(encoded.bytes == [UInt8(chunk)])
                        written.withLock { $0.append(chunk) }
                        held.withLock { $0.now -= 1 }
                    }
                    run = commit.finishedRun()
                }
            }
            #expect(written.withLock { $0 } == Array(0..<delays.count))
            #expect(held.withLock { $0.most } <= 2 * window)
        }
    }

    /// A chunk that fails is never deposited, so the chunks after it never become due: cancelling must release
    /// the workers waiting for them, and let none of them go on.
    @Test("cancel wakes the waiting workers and lets none of them encode")
    func cancelReleasesWaiters() {
        let commit = OrderedCommit(window: 1)
        let started = Atomic<Int>(0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { commit.cancel() }
        ParallelLoop.forEach(8, concurrency: 4) { index in
            guard index > 0 else { return }  // chunk 0 failed: never deposited
            if commit.waitForTurn(index) { started.add(1, ordering: .relaxed) }
        }
        #expect(started.load(ordering: .relaxed) == 0)
        #expect(!commit.waitForTurn(0))
    }
}
