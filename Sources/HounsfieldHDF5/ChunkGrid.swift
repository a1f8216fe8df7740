/// The chunks that tile an array of `shape` (z, y, x): their count per axis and each chunk's offset and extent.
struct ChunkGrid: Sendable {
    let shape: [Int]
    let chunk: [Int]
    let counts: [Int]

    init(shape: [Int], chunk: [Int]) {
        self.shape = shape
        self.chunk = chunk
        counts = zip(shape, chunk).map { ($0 + $1 - 1) / $1 }
    }

    var chunkCount: Int { counts.reduce(1, *) }
    /// Whether chunks are whole slices (slabs): each chunk is then one contiguous run of the array.
    var isSlabs: Bool { chunk[1] == shape[1] && chunk[2] == shape[2] }
    var chunkElements: Int { chunk.reduce(1, *) }

    /// The element offset (z, y, x) of chunk `index` (chunks in C order).
    func offset(ofChunk index: Int) -> [Int] {
        let x = index % counts[2]
        let y = (index / counts[2]) % counts[1]
        let z = index / (counts[2] * counts[1])
        return [z * chunk[0], y * chunk[1], x * chunk[2]]
    }

    /// The part of chunk `index` inside the array: its extent per axis (smaller than `chunk` at the far edges).
    func extent(ofChunk index: Int) -> [Int] {
        let origin = offset(ofChunk: index)
        return (0..<3).map { min(chunk[$0], shape[$0] - origin[$0]) }
    }

    /// Indices of the chunks that intersect the region starting at `start` with `size` elements per axis.
    func chunks(intersecting start: [Int], size: [Int]) -> [Int] {
        let first = (0..<3).map { start[$0] / chunk[$0] }
        let last = (0..<3).map { (start[$0] + size[$0] - 1) / chunk[$0] }
        var result: [Int] = []
        for z in first[0]...last[0] {
            for y in first[1]...last[1] {
                for x in first[2]...last[2] { result.append((z * counts[1] + y) * counts[2] + x) }
            }
        }
        return result
    }
}
