import HounsfieldCore
@testable import HounsfieldHDF5
import Testing

@Suite("Chunk buffers reused by the writer")
struct ChunkBufferPoolTests {
    /// A pooled buffer is longer than its chunk and holds the previous chunk's bytes past its end: the stored bytes
    /// must be the same as with buffers of its own, whatever was there before.
    @Test("encoding into reused buffers stores the same bytes", arguments: [ShardCompression.gzip(level: 1), .none])
    func sameBytes(_ compression: ShardCompression) {
        let pool = ChunkBufferPool(limit: 4)
        let codec = ChunkCodec(compression: compression, elementSize: 4)
        var random = SplitMix64(seed: 7)
        // A large noisy chunk first (its bytes stay in the buffers), then smaller, more compressible ones.
        let chunks: [[UInt8]] = [
            (0..<400_000).map { _ in UInt8(truncatingIfNeeded: random.next()) },
            (0..<200_000).map { UInt8(truncatingIfNeeded: ($0 / 4) % 300 < 90 ? 0 : $0 * 31) },
            (0..<200_000).map { _ in 0 },
        ]
        for raw in chunks {
            let own = raw.withUnsafeBytes { codec.filter($0) }
            var pooled = raw.withUnsafeBytes { codec.filter($0, buffers: pool) }
            #expect(pooled.filterMask == own.filterMask)
            #expect(pooled.withStoredBytes { Array($0) } == own.withStoredBytes { Array($0) })
            #expect(own.bytes.count == own.count)
            pool.recycle(&pooled.bytes)
            #expect(pooled.bytes.isEmpty)
        }
    }

    @Test("the pool keeps at most its limit, the largest buffers, and hands back one large enough")
    func keepsLargest() {
        let pool = ChunkBufferPool(limit: 2)
        var buffers = [pool.take(10), pool.take(30), pool.take(20)]
        for index in buffers.indices { pool.recycle(&buffers[index]) }
        let first = pool.take(25), second = pool.take(1)
        #expect(first.count == 30)
        #expect(second.count == 20)
        #expect(pool.take(40).count == 40)  // nothing large enough left: a new one
        pool.drain()
        #expect(pool.take(5).count == 5)
    }
}
