import CCodecs
import CHDF5Shim

/// How shard chunks are compressed. Every codec is preceded by HDF5's byte shuffle, which groups the bytes of equal
/// significance and is what makes CT values compress at all.
public enum ShardCompression: Hashable, Sendable, CustomStringConvertible {
    /// No filter: fastest to write and read, largest files.
    case none
    /// Shuffle + deflate at `level` 1…9: readable by every HDF5 and h5py without plugins. The default, at level 1.
    case gzip(level: Int)
    /// Shuffle + zstd (HDF5 filter 32015) at `level` 1…22: faster than gzip at a similar ratio; Python needs
    /// `import hdf5plugin`.
    case zstd(level: Int)
    /// Shuffle + LZ4 (HDF5 filter 32004): the fastest codec, lower ratio; Python needs `import hdf5plugin`, HDF5 tools
    /// Debian's `hdf5-filter-plugin`.
    case lz4

    /// Shuffle + gzip level 1: readable everywhere without plugins, and most of gzip's ratio at its fastest level.
    public static let `default` = ShardCompression.gzip(level: 1)

    /// Parses `gzip:N`, `gzip` (level 1), `zstd:N`, `zstd` (level 3), `lz4` or `none`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let level = parts.count > 1 ? Int(parts[1]) : nil
        if parts.count > 1 && level == nil {
            throw .invalidRequest("compression '\(text)': the level after ':' must be a whole number")
        }
        switch parts.first ?? "" {
        case "none": self = .none
        case "gzip", "deflate": self = .gzip(level: level ?? 1)
        case "zstd": self = .zstd(level: level ?? 3)
        case "lz4": self = .lz4
        default:
            throw .invalidRequest("compression '\(text)' is not known; use gzip:N (1-9), zstd:N (1-22), lz4 or none")
        }
        try validate()
    }

    /// Checks the level's range.
    public func validate() throws(ShardError) {
        switch self {
        case .gzip(let level) where !(1...9).contains(level):
            throw .invalidRequest("gzip level \(level) is outside 1-9")
        case .zstd(let level) where !(1...22).contains(level):
            throw .invalidRequest("zstd level \(level) is outside 1-22")
        default: break
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip(let level): "gzip:\(level)"
        case .zstd(let level): "zstd:\(level)"
        case .lz4: "lz4"
        }
    }

    /// The HDF5 filter pipeline in write order, with each filter's parameter.
    var filters: [(id: Int32, parameter: UInt32)] {
        switch self {
        case .none: []
        case .gzip(let level): [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_DEFLATE), UInt32(level))]
        case .zstd(let level): [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_ZSTD), UInt32(level))]
        case .lz4: [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_LZ4), 0)]
        }
    }

    /// The codec after the shuffle, with its level, or nil for none.
    var codec: (id: Int32, level: Int32)? {
        switch self {
        case .none: nil
        case .gzip(let level): (Int32(HF_CODEC_DEFLATE), Int32(level))
        case .zstd(let level): (Int32(HF_CODEC_ZSTD), Int32(level))
        case .lz4: (Int32(HF_CODEC_LZ4), 0)
        }
    }
}
