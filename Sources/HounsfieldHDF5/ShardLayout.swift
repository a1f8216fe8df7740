/// Named storage presets: a chunk shape and a codec chosen together for how the shards will be read
/// (`docs/format.md`, "Layouts"; `docs/decisions.md` 51). Each volume records its layout in the `layout` attribute.
public enum ShardLayout: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// For training on random patches: 32³ cubes, each one Blosc buffer (LZ4, byte shuffle). A 96³ patch decodes
    /// 64 small chunks at several GB/s instead of inflating whole slices. h5py reads it after `import hdf5plugin`.
    case training
    /// For archives and whole-volume reads: slabs of about 4 MiB, shuffle + gzip 1 (today's default). Readable by
    /// every HDF5 reader without plugins.
    case archive

    /// The chunk shape of this layout.
    public var chunks: ChunkLayout {
        switch self {
        case .training: .cubes(edge: 32)
        case .archive: .slabs(slices: nil)
        }
    }

    /// The codec of this layout.
    public var compression: ShardCompression {
        switch self {
        case .training: .blosc(.lz4, level: 9)
        case .archive: .gzip(level: 1)
        }
    }

    /// The layout these settings amount to, or nil when they match no preset (a custom `chunks` or `compression`).
    public init?(chunks: ChunkLayout, compression: ShardCompression) {
        guard let match = Self.allCases.first(where: { $0.chunks == chunks && $0.compression == compression }) else {
            return nil
        }
        self = match
    }

    /// Parses `training` or `archive`.
    public init(parsing text: String) throws(ShardError) {
        guard let layout = ShardLayout(rawValue: text.lowercased()) else {
            throw .invalidRequest("layout '\(text)' is not known; use training (random patches) or archive (whole volumes, no plugins)")
        }
        self = layout
    }

    public var description: String { rawValue }

    /// The value of a volume's `layout` attribute: the preset's name, or `custom` (the dataset's chunk shape and
    /// filter pipeline then say what was chosen).
    static func attribute(chunks: ChunkLayout, compression: ShardCompression) -> String {
        ShardLayout(chunks: chunks, compression: compression)?.rawValue ?? "custom"
    }
}
