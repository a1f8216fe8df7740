import Synchronization

/// Chunk-sized byte buffers that a shard writer reuses from chunk to chunk and from volume to volume: the shuffle
/// scratch, and the encoded bytes of each chunk until they are written.
///
/// Why: these buffers are the largest that come and go (two of about 4 MiB per chunk, tens of GB over a run of
/// hundreds of series). Through malloc, glibc served them from its per-thread arenas once its mmap threshold had
/// risen to their size, and the arenas grew over a run (from 59 to 129 MB over 120 series of a 384-series run)
/// around the small objects that live between them; a fixed mmap threshold instead made every chunk fault in fresh
/// pages (+35% wall time). Reused, they cost no page faults and leave no holes (`docs/decisions.md`, decision 43).
///
/// A buffer taken is owned by the caller until it is handed back with ``recycle(_:)``; the pool keeps at most
/// `limit` buffers, and drops those too small for the current chunks.
final class ChunkBufferPool: Sendable {
    private let free = Mutex<[[UInt8]]>([])
    /// The most buffers kept between uses: what one volume's write has in hand at once.
    let limit: Int

    init(limit: Int) { self.limit = max(1, limit) }

    /// A buffer of at least `bytes` bytes (its `count`; the contents are whatever was there before).
    func take(_ bytes: Int) -> [UInt8] {
        let reused = free.withLock { buffers -> [UInt8]? in
            guard let index = buffers.lastIndex(where: { $0.count >= bytes }) else { return nil }
            return buffers.remove(at: index)
        }
        return reused ?? [UInt8](repeating: 0, count: bytes)
    }

    /// Hands `buffer` back (leaving it empty), unless the pool is full.
    func recycle(_ buffer: inout [UInt8]) {
        let returned = buffer
        buffer = []
        guard !returned.isEmpty else { return }
        free.withLock { buffers in
            if buffers.count < limit {
                buffers.append(returned)
            } else if let smallest = buffers.indices.min(by: { buffers[$0].count < buffers[$1].count }),
                      buffers[smallest].count < returned.count
            {
                buffers[smallest] = returned  // keep the larger: chunks of the next volume may be as large
            }
        }
    }

    /// Frees every buffer kept (a writer about to be idle).
    func drain() { free.withLock { $0.removeAll() } }
}
