import Dispatch
import Synchronization

/// Hands encoded chunks to HDF5 in index order while the chunks are still being encoded.
///
/// Workers encode chunks in any order and deposit them here. Whoever deposits the next chunk due becomes the writer
/// and stores every consecutive chunk that is ready (including other workers' chunks) before giving the role up;
/// the others go straight back to encoding. One thread at a time calls HDF5 (which serialises calls anyway), and the
/// file's chunk order, hence its bytes, does not depend on timing.
///
/// **Bounded.** A worker may encode only `window` chunks ahead of the next one due (``waitForTurn(_:)``); further
/// ahead it waits. Without the bound, a writer held up in `write` (the kernel throttles a process that dirties page
/// cache faster than the disk takes it, which happens more the longer a run writes) let the other workers encode
/// the rest of the volume into memory: 41 MB of waiting chunks were seen in a 96-series run, and how often it
/// happened grew with the run (`docs/benchmarks.md`, "Flat memory").
final class OrderedCommit: Sendable {
    private struct State {
        var ready: [Int: EncodedChunk] = [:]
        var next = 0
        var writing = false
        /// Workers blocked in `waitForTurn`, each on a semaphore of its own: a shared one would let a worker that
        /// wakes and must wait again take the signal owed to one that could go on (a lost wake-up, a deadlock).
        var waiting: [DispatchSemaphore] = []
        var cancelled = false
    }

    private let state = Mutex(State())
    /// How many chunks past the next one due a worker may encode (it holds at most one chunk's buffers meanwhile).
    let window: Int

    init(window: Int) { self.window = max(1, window) }

    /// Blocks until chunk `index` is within `window` chunks of the next one due. Returns false once ``cancel()``
    /// was called: the caller then skips the chunk. Indices must be taken in increasing order (as
    /// `ParallelLoop.forEach` hands them out), so the chunk due is always held by a worker that is not waiting.
    func waitForTurn(_ index: Int) -> Bool {
        while true {
            let outcome: (proceed: Bool?, wait: DispatchSemaphore?) = state.withLock { state in
                if state.cancelled { return (false, nil) }
                if index < state.next + window { return (true, nil) }
                let semaphore = DispatchSemaphore(value: 0)
                state.waiting.append(semaphore)
                return (nil, semaphore)
            }
            if let proceed = outcome.proceed { return proceed }
            outcome.wait?.wait()
        }
    }

    /// Wakes every waiting worker and makes ``waitForTurn(_:)`` answer false: a chunk failed, and the chunks after it
    /// will never become due.
    func cancel() {
        let woken = state.withLock { state in
            state.cancelled = true
            return Self.takeWaiting(&state)
        }
        wake(woken)
    }

    /// Deposits chunk `index`; returns the run of chunks this caller must now write, in order (often empty).
    func deposit(_ index: Int, _ chunk: consuming EncodedChunk) -> [(index: Int, chunk: EncodedChunk)] {
        let (run, woken) = state.withLock { state -> ([(index: Int, chunk: EncodedChunk)], [DispatchSemaphore]) in
            state.ready[index] = chunk
            guard !state.writing else { return ([], []) }
            let run = Self.takeRun(&state)
            state.writing = !run.isEmpty
            return (run, run.isEmpty ? [] : Self.takeWaiting(&state))
        }
        wake(woken)
        return run
    }

    /// Called by the writer after writing a run: the next run that became ready meanwhile, or empty, which gives
    /// the writer role up.
    func finishedRun() -> [(index: Int, chunk: EncodedChunk)] {
        let (run, woken) = state.withLock { state in
            let run = Self.takeRun(&state)
            state.writing = !run.isEmpty
            return (run, run.isEmpty ? [] : Self.takeWaiting(&state))
        }
        wake(woken)
        return run
    }

    /// Wakes workers taken off the waiting list; each checks its turn again.
    private func wake(_ workers: [DispatchSemaphore]) {
        for worker in workers { worker.signal() }
    }

    private static func takeWaiting(_ state: inout State) -> [DispatchSemaphore] {
        defer { state.waiting = [] }
        return state.waiting
    }

    private static func takeRun(_ state: inout State) -> [(index: Int, chunk: EncodedChunk)] {
        var run: [(index: Int, chunk: EncodedChunk)] = []
        while let chunk = state.ready.removeValue(forKey: state.next) {
            run.append((state.next, chunk))
            state.next += 1
        }
        return run
    }
}
