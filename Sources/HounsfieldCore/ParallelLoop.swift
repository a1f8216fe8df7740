import Dispatch
import Synchronization

/// Runs CPU-bound loops on all cores through Dispatch's thread pool, outside Swift's cooperative pool, so seconds of
/// decoding or resampling never starve async tasks.
package enum ParallelLoop {
    /// The number of cores this process may use.
    package static var defaultConcurrency: Int { max(1, HostMachine.activeProcessorCount) }

    /// Calls `body` for every index in `0..<count` on up to `concurrency` threads, and returns when all calls have
    /// finished. Indices are handed out one at a time, so uneven work (a compressed slice next to a raw one)
    /// balances itself.
    ///
    /// `body` runs on several threads at once: it must touch only state that belongs to its index (a slice, a slot)
    /// or state that is itself synchronized. This is the contract of every data-parallel loop; the compiler cannot
    /// check it for closures over unsafe buffers, so it is stated here once.
    package static func forEach(_ count: Int, concurrency: Int = defaultConcurrency, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(concurrency, count))
        if workers == 1 {
            for index in 0..<count { body(index) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            let task = ConcurrentBody(call: body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { return }
                    task.call(index)
                }
            }
        }
    }

    /// Goes through every index in `0..<count` on up to `concurrency` threads, each thread taking its indices in
    /// increasing, mostly contiguous order: `worker` runs once per thread and pulls indices with `next()` until it
    /// returns nil.
    ///
    /// Why: for loops whose neighbouring indices share work (a resampler's output slices share input planes, which a
    /// thread keeps in a cache), handing out single indices would split every pair of neighbours between threads,
    /// and a few large blocks leave one thread alone with the last block (80 ms of one idle core on a 512×512×300
    /// resampling). Each thread starts on an equal share; one that finishes takes the second half of the largest
    /// share still left, so a share is only ever split when a thread would otherwise wait.
    package static func forEachContiguously(
        _ count: Int, concurrency: Int = defaultConcurrency, _ worker: (_ next: () -> Int?) -> Void
    ) {
        guard count > 0 else { return }
        let workers = max(1, min(concurrency, count))
        if workers == 1 {
            var index = 0
            worker {
                defer { index += 1 }
                return index < count ? index : nil
            }
            return
        }
        let shares = ContiguousShares(count: count, workers: workers)
        withoutActuallyEscaping(worker) { worker in
            let task = ConcurrentWorker(run: worker)
            DispatchQueue.concurrentPerform(iterations: workers) { slot in
                task.run { shares.next(for: slot) }
            }
        }
    }

    /// Maps every index in `0..<count` concurrently and returns the results in index order.
    package static func map<Result>(
        _ count: Int, concurrency: Int = defaultConcurrency, _ transform: (Int) -> Result
    ) -> [Result] {
        guard count > 0 else { return [] }
        var results = [Result?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = DisjointSlots(buffer)
            forEach(count, concurrency: concurrency) { index in slots[index] = transform(index) }
        }
        return results.map { $0! }
    }

    /// Runs blocking work on a Dispatch thread and resumes the caller when it is done, so an async caller never
    /// blocks a thread of the cooperative pool.
    ///
    /// `work` (and whatever it captured) is released before the caller resumes. Dispatch releases a block only after
    /// it returns, so a closure captured by the block would outlive the resumption by however long that thread is
    /// descheduled: the pipeline's writer, resumed, took its next volume and let a new one be made while the volume
    /// it had written was still alive (a fifth volume in flight at the peak of a 96-series run).
    package static func offload<Result: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        let pending = PendingWork(work)
        let outcome: Swift.Result<Result, Failure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: pending.run())
            }
        }
        return try outcome.get()
    }
}

/// The body of `ParallelLoop.forEach`, handed to Dispatch's worker threads.
///
/// `@unchecked Sendable` is safe because `forEach`'s documented contract requires the closure to be safe to call
/// concurrently with distinct indices, and `concurrentPerform` returns only after every call, so the closure never
/// outlives the `withoutActuallyEscaping` scope it was borrowed from.
private struct ConcurrentBody: @unchecked Sendable {
    let call: (Int) -> Void
}

/// The worker of `ParallelLoop.forEachContiguously`, handed to Dispatch's worker threads.
///
/// `@unchecked Sendable` is safe for the reason `ConcurrentBody` is: the contract says the worker is safe to run on
/// several threads at once (each pulls distinct indices), and `concurrentPerform` returns only after every call.
private struct ConcurrentWorker: @unchecked Sendable {
    let run: (_ next: () -> Int?) -> Void
}

/// The index ranges still to do, one per worker, for `forEachContiguously`.
private final class ContiguousShares: Sendable {
    private let shares: Mutex<[Range<Int>]>

    init(count: Int, workers: Int) {
        shares = Mutex((0..<workers).map { ($0 * count / workers)..<(($0 + 1) * count / workers) })
    }

    /// The next index of worker `slot`: the first of its share, or, when its share is done, the first of the
    /// second half of the largest share left (which becomes its share). Nil when no share has two indices left.
    func next(for slot: Int) -> Int? {
        shares.withLock { shares in
            if shares[slot].isEmpty {
                guard let victim = shares.indices.max(by: { shares[$0].count < shares[$1].count }),
                      shares[victim].count >= 2
                else { return nil }
                let range = shares[victim], middle = range.lowerBound + range.count / 2
                shares[victim] = range.lowerBound..<middle
                shares[slot] = middle..<range.upperBound
            }
            let index = shares[slot].lowerBound
            shares[slot] = (index + 1)..<shares[slot].upperBound
            return index
        }
    }
}

/// A mutable buffer that concurrent loop iterations write into, each only at the indices it owns.
///
/// `@unchecked Sendable` is safe here because (1) every iteration writes disjoint elements — the index it was given,
/// or a range derived only from it — so no two threads touch the same memory, and (2) the buffer's owner keeps it
/// alive and untouched until `DispatchQueue.concurrentPerform` returns, which happens only after every iteration.
package struct DisjointSlots<Element>: @unchecked Sendable {
    /// The first element; offset it by an index the iteration owns.
    package let base: UnsafeMutablePointer<Element>
    /// The number of elements in the buffer.
    package let count: Int

    /// Wraps `buffer`, which the caller keeps alive (and touches no other way) until the loop returns.
    package init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        // An empty buffer may have no base address; nothing is ever read or written through it then.
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
        count = buffer.count
    }

    /// The element at `index`, which must be one the calling iteration owns; not bounds-checked.
    @inlinable package subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// The work of one `ParallelLoop.offload`, run once and dropped before its result is handed back.
private final class PendingWork<Result: Sendable, Failure: Error>: Sendable {
    private let slot: Mutex<(@Sendable () throws(Failure) -> Result)?>

    init(_ work: @escaping @Sendable () throws(Failure) -> Result) { slot = Mutex(work) }

    /// Runs the work and releases it (with what it captured) before returning its outcome.
    func run() -> Swift.Result<Result, Failure> {
        guard let work = slot.withLock({ $0.take() }) else { preconditionFailure("offloaded work ran twice") }
        do throws(Failure) {
            return .success(try work())
        } catch {
            return .failure(error)
        }
    }
}
