import CCodecs
import CHDF5Shim
import Crypto
import Foundation

/// One chunk as it goes into the file: its bytes (filtered, or raw when filtering did not help) and the filter mask
/// that tells HDF5 which filters were skipped.
struct EncodedChunk: Sendable {
    /// Holds the stored bytes in its first `count` bytes; a buffer from a ``ChunkBufferPool`` is longer.
    var bytes: [UInt8]
    /// How many bytes of `bytes` are the chunk.
    var count: Int
    var filterMask: UInt32
    /// SHA-256 of each whole slice in the chunk (slab layouts only), computed while the data is in cache.
    var sliceDigests: [[UInt8]] = []

    init(bytes: [UInt8], count: Int? = nil, filterMask: UInt32) {
        self.bytes = bytes
        self.count = count ?? bytes.count
        self.filterMask = filterMask
    }

    /// Calls `body` with the stored bytes.
    func withStoredBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}

/// Turns array regions into stored chunks and back, with the shard's filter pipeline (shuffle, then one codec; or
/// Blosc alone).
/// Pure functions of their inputs, safe to call on many threads at once.
struct ChunkCodec: Sendable {
    let compression: ShardCompression
    let elementSize: Int

    /// The number of filters in the pipeline, for building "all skipped" masks.
    var filterCount: Int { compression.filters.count }

    /// Copies the part of the array inside `grid`'s chunk `index` into a full-size chunk buffer (zero-padded at the
    /// edges), then filters it.
    /// For slabs (chunks of whole slices) it also hashes each slice for the volume's checksum, and reads a chunk
    /// that lies fully inside the array in place instead of copying it.
    /// The encoded bytes and the scratch buffers come from `buffers` when given (hand the chunk's `bytes` back
    /// with `recycle` once written), else from fresh allocations.
    func encode(chunk index: Int, of grid: ChunkGrid, array: UnsafeRawBufferPointer,
                buffers: ChunkBufferPool? = nil) -> EncodedChunk {
        let chunkBytes = grid.chunkElements * elementSize
        let extent = grid.extent(ofChunk: index)
        var digests: [[UInt8]] = []
        if grid.isSlabs {
            let sliceBytes = grid.shape[1] * grid.shape[2] * elementSize
            let first = grid.offset(ofChunk: index)[0]
            for k in first..<(first + extent[0]) {
                digests.append(Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: array[(k * sliceBytes)..<((k + 1) * sliceBytes)]))))
            }
            if extent == grid.chunk {
                let start = first * sliceBytes
                var encoded = filter(UnsafeRawBufferPointer(rebasing: array[start..<(start + chunkBytes)]), buffers: buffers)
                encoded.sliceDigests = digests
                return encoded
            }
        }
        var raw = Self.take(chunkBytes, from: buffers)
        defer { buffers?.recycle(&raw) }
        return raw.withUnsafeMutableBytes { whole in
            let chunk = UnsafeMutableRawBufferPointer(rebasing: whole[0..<chunkBytes])
            gather(chunk: index, of: grid, array: array, into: chunk)
            var encoded = filter(UnsafeRawBufferPointer(chunk), buffers: buffers)
            encoded.sliceDigests = digests
            return encoded
        }
    }

    /// Filters one full chunk.
    func filter(_ raw: UnsafeRawBufferPointer, buffers: ChunkBufferPool? = nil) -> EncodedChunk {
        // Compressed output larger than the raw chunk is useless: cap it at the raw size and store raw otherwise.
        var output = Self.take(raw.count, from: buffers)
        if case .blosc(let compressor, let level) = compression {
            let written = output.withUnsafeMutableBytes {
                hf_blosc_compress(compressor.code, Int32(level), elementSize, raw.baseAddress, raw.count,
                                  $0.baseAddress, raw.count)
            }
            guard written > 0 else {
                output.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
                return EncodedChunk(bytes: output, count: raw.count, filterMask: 1)
            }
            if buffers == nil { output.removeSubrange(written...) }
            return EncodedChunk(bytes: output, count: written, filterMask: 0)
        }
        guard let codec = compression.codec else {
            output.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
            return EncodedChunk(bytes: output, count: raw.count, filterMask: 0)
        }
        var shuffled = Self.take(raw.count, from: buffers)
        defer { buffers?.recycle(&shuffled) }
        let capacity = min(hf_compress_bound(codec.id, raw.count), raw.count)
        let written = shuffled.withUnsafeMutableBytes { shuffled in
            hf_shuffle(raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
                       shuffled.baseAddress!.assumingMemoryBound(to: UInt8.self), raw.count, elementSize)
            return output.withUnsafeMutableBytes {
                hf_compress(codec.id, codec.level, shuffled.baseAddress, raw.count, elementSize, $0.baseAddress, capacity)
            }
        }
        if written == 0 {
            output.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
            return EncodedChunk(bytes: output, count: raw.count, filterMask: (1 << UInt32(filterCount)) - 1)
        }
        if buffers == nil { output.removeSubrange(written...) }  // its own buffer: no longer than its bytes
        return EncodedChunk(bytes: output, count: written, filterMask: 0)
    }

    /// A buffer of at least `bytes` bytes: from the pool, or new.
    private static func take(_ bytes: Int, from buffers: ChunkBufferPool?) -> [UInt8] {
        buffers?.take(bytes) ?? [UInt8](unsafeUninitializedCapacity: bytes) { _, count in count = bytes }
    }

    /// Reverses `filter`: decodes stored bytes into a full chunk buffer. Returns false when the bytes are corrupt.
    func unfilter(_ stored: UnsafeRawBufferPointer, filterMask: UInt32, pipeline: [Int32],
                  into chunk: UnsafeMutableRawBufferPointer) -> Bool {
        // Undo the active filters in reverse order. Steps alternate between `chunk` and a scratch buffer, chosen so
        // that the last step lands in `chunk` and no step reads the buffer it writes.
        let steps = pipeline.enumerated()
            .filter { filterMask & (1 << UInt32($0.offset)) == 0 }
            .map(\.element).reversed()
        guard !steps.isEmpty else {
            guard stored.count == chunk.count else { return false }
            chunk.copyMemory(from: stored)
            return true
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: steps.count > 1 ? chunk.count : 0, alignment: 16)
        defer { scratch.deallocate() }
        var source = stored
        for (step, filter) in steps.enumerated() {
            let target = (steps.count - 1 - step) % 2 == 0 ? chunk : scratch
            switch filter {
            case Int32(HF5_FILTER_SHUFFLE):
                guard source.count == chunk.count else { return false }
                hf_unshuffle(source.baseAddress!.assumingMemoryBound(to: UInt8.self),
                             target.baseAddress!.assumingMemoryBound(to: UInt8.self), chunk.count, elementSize)
            case Int32(HF_CODEC_BLOSC):
                guard hf_blosc_decompress(source.baseAddress, source.count, target.baseAddress, chunk.count) == 0
                else { return false }
            case Int32(HF_CODEC_DEFLATE), Int32(HF_CODEC_ZSTD), Int32(HF_CODEC_LZ4):
                guard hf_decompress(filter, source.baseAddress, source.count, target.baseAddress, chunk.count) == 0
                else { return false }
            default:
                return false
            }
            source = UnsafeRawBufferPointer(target)
        }
        return true
    }

    /// Copies chunk `index`'s region of the array into `chunk` (C order, chunk-shaped), zeroing what lies outside.
    func gather(chunk index: Int, of grid: ChunkGrid, array: UnsafeRawBufferPointer,
                into chunk: UnsafeMutableRawBufferPointer) {
        let origin = grid.offset(ofChunk: index)
        let extent = grid.extent(ofChunk: index)
        let shape = grid.shape, c = grid.chunk, e = elementSize
        if extent != c { chunk.initializeMemory(as: UInt8.self, repeating: 0) }
        if c[1] == shape[1] && c[2] == shape[2] {
            // A slab: one contiguous run of the array.
            let start = origin[0] * shape[1] * shape[2] * e
            let count = extent[0] * shape[1] * shape[2] * e
            chunk.baseAddress!.copyMemory(from: array.baseAddress! + start, byteCount: count)
            return
        }
        let rowBytes = extent[2] * e
        for z in 0..<extent[0] {
            for y in 0..<extent[1] {
                let source = ((origin[0] + z) * shape[1] + origin[1] + y) * shape[2] + origin[2]
                let target = (z * c[1] + y) * c[2]
                (chunk.baseAddress! + target * e).copyMemory(from: array.baseAddress! + source * e, byteCount: rowBytes)
            }
        }
    }

    /// Copies the intersection of a decoded chunk with a region into the region's buffer (C order, `size`-shaped).
    func scatter(chunk: UnsafeRawBufferPointer, chunkOrigin: [Int], chunkShape c: [Int],
                 regionStart: [Int], regionSize: [Int], into region: UnsafeMutableRawPointer) {
        let e = elementSize
        let low = (0..<3).map { max(chunkOrigin[$0], regionStart[$0]) }
        let high = (0..<3).map { min(chunkOrigin[$0] + c[$0], regionStart[$0] + regionSize[$0]) }
        guard (0..<3).allSatisfy({ low[$0] < high[$0] }) else { return }
        let rowBytes = (high[2] - low[2]) * e
        for z in low[0]..<high[0] {
            for y in low[1]..<high[1] {
                let source = ((z - chunkOrigin[0]) * c[1] + (y - chunkOrigin[1])) * c[2] + (low[2] - chunkOrigin[2])
                let target = ((z - regionStart[0]) * regionSize[1] + (y - regionStart[1])) * regionSize[2]
                    + (low[2] - regionStart[2])
                (region + target * e).copyMemory(from: chunk.baseAddress! + source * e, byteCount: rowBytes)
            }
        }
    }
}
