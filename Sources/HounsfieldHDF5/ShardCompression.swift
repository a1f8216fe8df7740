import CCodecs
import CHDF5Shim

/// How shard chunks are compressed. Every codec is preceded by a byte shuffle, which groups the bytes of equal
/// significance and is what makes CT values compress at all: HDF5's shuffle filter, or Blosc's own inside `blosc`.
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
    /// Blosc 1 (HDF5 filter 32001): one c-blosc buffer per chunk with Blosc's byte shuffle and `compressor` at `level`
    /// 1…9, the codec of the training layout (``ShardLayout/training``, `docs/decisions.md` 51). Python needs
    /// `import hdf5plugin`; Hounsfield's Python reader decodes chunks itself with the `blosc` package.
    case blosc(BloscCompressor, level: Int)

    /// Shuffle + gzip level 1: readable everywhere without plugins, and most of gzip's ratio at its fastest level.
    public static let `default` = ShardCompression.gzip(level: 1)

    /// Parses `gzip:N`, `gzip` (level 1), `zstd:N`, `zstd` (level 3), `lz4`, `none`, or `blosc:COMPRESSOR:N`
    /// (`blosc:lz4:9`; `blosc:COMPRESSOR` takes level 9 and `blosc` alone the training layout's codec).
    public init(parsing text: String) throws(ShardError) {
        let lowered = text.lowercased()
        if lowered == "blosc" || lowered.hasPrefix("blosc:") {
            self = try Self.parseBlosc(text)
            try validate()
            return
        }
        let parts = lowered.split(separator: ":", maxSplits: 1).map(String.init)
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
            throw .invalidRequest("compression '\(text)' is not known; use gzip:N (1-9), zstd:N (1-22), lz4, blosc:lz4:N (1-9) or none")
        }
        try validate()
    }

    private static func parseBlosc(_ text: String) throws(ShardError) -> ShardCompression {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return ShardLayout.training.compression }
        guard let compressor = BloscCompressor(rawValue: parts[1]) else {
            throw .invalidRequest("compression '\(text)': Blosc compressor '\(parts[1])' is not known; use "
                                  + BloscCompressor.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard parts.count <= 3 else { throw .invalidRequest("compression '\(text)': use blosc:COMPRESSOR:LEVEL") }
        guard parts.count == 3 else { return .blosc(compressor, level: 9) }
        guard let level = Int(parts[2]) else {
            throw .invalidRequest("compression '\(text)': the level after the compressor must be a whole number")
        }
        return .blosc(compressor, level: level)
    }

    /// Checks the level's range.
    public func validate() throws(ShardError) {
        switch self {
        case .gzip(let level) where !(1...9).contains(level):
            throw .invalidRequest("gzip level \(level) is outside 1-9")
        case .zstd(let level) where !(1...22).contains(level):
            throw .invalidRequest("zstd level \(level) is outside 1-22")
        case .blosc(_, let level) where !(1...9).contains(level):
            throw .invalidRequest("Blosc level \(level) is outside 1-9")
        default: break
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip(let level): "gzip:\(level)"
        case .zstd(let level): "zstd:\(level)"
        case .lz4: "lz4"
        case .blosc(let compressor, let level): "blosc:\(compressor.rawValue):\(level)"
        }
    }

    /// The HDF5 filter pipeline in write order, with each filter's parameter.
    var filters: [(id: Int32, parameter: UInt32)] {
        switch self {
        case .none: []
        case .gzip(let level): [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_DEFLATE), UInt32(level))]
        case .zstd(let level): [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_ZSTD), UInt32(level))]
        case .lz4: [(Int32(HF5_FILTER_SHUFFLE), 0), (Int32(HF5_FILTER_LZ4), 0)]
        // Level and compressor packed for the shim, which writes the Blosc filter's seven cd_values.
        case .blosc(let compressor, let level): [(Int32(HF5_FILTER_BLOSC), UInt32(level) | UInt32(compressor.code) << 8)]
        }
    }

    /// The codec after HDF5's shuffle, with its level, or nil for none and for Blosc (which shuffles itself).
    var codec: (id: Int32, level: Int32)? {
        switch self {
        case .none, .blosc: nil
        case .gzip(let level): (Int32(HF_CODEC_DEFLATE), Int32(level))
        case .zstd(let level): (Int32(HF_CODEC_ZSTD), Int32(level))
        case .lz4: (Int32(HF_CODEC_LZ4), 0)
        }
    }
}

/// The compressor inside a Blosc buffer. Every one decodes with c-blosc 1.x (Debian's `libblosc1`, hdf5plugin,
/// python-blosc); they differ in encoding speed and ratio (`Benchmarks/training-read/README.md`).
public enum BloscCompressor: String, CaseIterable, Hashable, Sendable {
    /// LZ4 (the training layout's): fast to encode and the fastest to decode.
    case lz4
    /// LZ4 high compression: the same fast decoding, a few percent smaller, but 10 to 50 times slower to encode.
    case lz4hc
    /// Blosc's own LZ codec.
    case blosclz
    /// zstd: the smallest, decodes about 5 times slower than LZ4.
    case zstd

    /// The compressor code of c-blosc and of the Blosc filter's `cd_values[6]`.
    var code: Int32 {
        switch self {
        case .blosclz: Int32(HF_BLOSC_BLOSCLZ)
        case .lz4: Int32(HF_BLOSC_LZ4)
        case .lz4hc: Int32(HF_BLOSC_LZ4HC)
        case .zstd: Int32(HF_BLOSC_ZSTD)
        }
    }
}
