import Synchronization

/// Hands encoded chunks to HDF5 in index order while the chunks are still being encoded.
///
/// Workers encode chunks in any order and deposit them here. Whoever deposits the next chunk due becomes the writer
/// and stores every consecutive chunk that is ready (including other workers' chunks) before giving the role up;
/// the others go straight back to encoding. No thread waits for another, one thread at a time calls HDF5 (which
/// serialises calls anyway), and the file's chunk order, hence its bytes, does not depend on timing.
final class OrderedCommit: Sendable {
    private struct State {
        var ready: [Int: EncodedChunk] = [:]
        var next = 0
        var writing = false
    }

    private let state = Mutex(State())

    /// Deposits chunk `index`; returns the run of chunks this caller must now write, in order (often empty).
    func deposit(_ index: Int, _ chunk: EncodedChunk) -> [(index: Int, chunk: EncodedChunk)] {
        state.withLock { state in
            state.ready[index] = chunk
            guard !state.writing else { return [] }
            let run = Self.takeRun(&state)
            state.writing = !run.isEmpty
            return run
        }
    }

    /// Called by the writer after writing a run: the next run that became ready meanwhile, or empty, which gives
    /// the writer role up.
    func finishedRun() -> [(index: Int, chunk: EncodedChunk)] {
        state.withLock { state in
            let run = Self.takeRun(&state)
            state.writing = !run.isEmpty
            return run
        }
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
