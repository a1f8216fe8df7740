import Dispatch
import Synchronization

/// Runs CPU-bound loops on all cores through Dispatch's thread pool, outside Swift's cooperative pool, so seconds of
/// decoding or resampling never starve async tasks.
public enum ParallelLoop {
    /// The number of cores this process may use.
    public static var defaultConcurrency: Int { max(1, System.activeProcessorCount) }

    /// Calls `body` for every index in `0..<count` on up to `concurrency` threads, and returns when all calls have
    /// finished. Indices are handed out one at a time, so uneven work (a compressed slice next to a raw one)
    /// balances itself.
    ///
    /// `body` runs on several threads at once: it must touch only state that belongs to its index (a slice, a slot)
    /// or state that is itself synchronized. This is the contract of every data-parallel loop; the compiler cannot
    /// check it for closures over unsafe buffers, so it is stated here once.
    public static func forEach(_ count: Int, concurrency: Int = defaultConcurrency, _ body: (Int) -> Void) {
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

    /// Maps every index in `0..<count` concurrently and returns the results in index order.
    public static func map<Result>(
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
    public static func offload<Result: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        let outcome: Swift.Result<Result, Failure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(Failure) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
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

/// A mutable buffer that concurrent loop iterations write into, each only at the indices it owns.
///
/// `@unchecked Sendable` is safe here because (1) every iteration writes disjoint elements — the index it was given,
/// or a range derived only from it — so no two threads touch the same memory, and (2) the buffer's owner keeps it
/// alive and untouched until `DispatchQueue.concurrentPerform` returns, which happens only after every iteration.
public struct DisjointSlots<Element>: @unchecked Sendable {
    /// The first element; offset it by an index the iteration owns.
    public let base: UnsafeMutablePointer<Element>
    /// The number of elements in the buffer.
    public let count: Int

    /// Wraps `buffer`, which the caller keeps alive (and touches no other way) until the loop returns.
    public init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        // An empty buffer may have no base address; nothing is ever read or written through it then.
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
        count = buffer.count
    }

    /// The element at `index`, which must be one the calling iteration owns; not bounds-checked.
    @inlinable public subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}
