/// The shape of the chunks a volume is stored in, which decides what reads are cheap.
public enum ChunkLayout: Hashable, Sendable, CustomStringConvertible {
    /// `slices` whole slices per chunk; nil picks the count that makes a chunk about 4 MiB. Best for reading whole
    /// volumes or slabs: each chunk is one contiguous run of the array.
    case slabs(slices: Int?)
    /// Cubes of `edge` voxels per side (clipped to the volume): best for random patch sampling, which then
    /// decompresses only the chunks a patch touches.
    case cubes(edge: Int)

    /// Slabs of about 4 MiB: what whole-volume and slab readers want.
    public static let `default` = ChunkLayout.slabs(slices: nil)

    /// The target size of an automatic slab.
    static let automaticSlabBytes = 4 << 20

    /// Parses `slabs`, `slabs:N` or `cubes:N`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let number = parts.count > 1 ? Int(parts[1]) : nil
        switch (parts.first ?? "", number) {
        case ("slabs", nil) where parts.count == 1: self = .slabs(slices: nil)
        case ("slabs", let n?) where n > 0: self = .slabs(slices: n)
        case ("cubes", let n?) where n > 0: self = .cubes(edge: n)
        default: throw .invalidRequest("chunk layout '\(text)' is not known; use slabs, slabs:N or cubes:N (N > 0)")
        }
    }

    public var description: String {
        switch self {
        case .slabs(nil): "slabs"
        case .slabs(let n?): "slabs:\(n)"
        case .cubes(let edge): "cubes:\(edge)"
        }
    }

    /// The chunk shape (z, y, x) for an array of `shape` (z, y, x) with `elementSize`-byte elements.
    func chunkShape(for shape: [Int], elementSize: Int) -> [Int] {
        switch self {
        case .slabs(let slices):
            let plane = max(1, shape[1] * shape[2] * elementSize)
            let k = slices ?? max(1, Self.automaticSlabBytes / plane)
            return [max(1, min(k, shape[0])), max(1, shape[1]), max(1, shape[2])]
        case .cubes(let edge):
            return shape.map { max(1, min(edge, $0)) }
        }
    }
}
