/// One line of `manifest.jsonl`: a published volume (`docs/format.md`).
public struct ManifestEntry: Codable, Sendable, Hashable {
    /// The volume's key, unique within the output folder.
    public var key: String
    /// The shard's file name, relative to the output folder.
    public var shard: String
    /// The image dataset's path inside the shard.
    public var path: String
    /// The label dataset's path, when there is one.
    public var labelPath: String?
    /// (z, y, x).
    public var shape: [Int]
    /// The image's element type, by numpy's name.
    public var dtype: ShardElementType
    /// (x, y, z) mm.
    public var spacing: [Double]
    /// The centre of voxel (0, 0, 0), LPS mm.
    public var origin: [Double]
    /// Row-major 3×3; columns are the directions of i, j, k.
    public var direction: [Double]
    /// The checksum of the stored image (`sha256-slices:…`, see `docs/format.md`); ``ManifestVerification`` recomputes
    /// it.
    public var checksum: String
    /// Bytes stored in the shard for this volume.
    public var bytes: Int
    /// The salted hash of the source series ("" when not recorded).
    public var sourceSeries: String
    /// Path of the preview relative to the folder.
    public var preview: String?
    /// Warnings from discovery and decoding (also in the shard).
    public var warnings: [String]
    /// `ok` for a published volume; lines with another status are skipped by merge and verify.
    public var status: String
    /// The label's layout, classes and voxel counts, when the volume has a label.
    public var labels: LabelSummary?

    /// A line as the writer makes it; `status` defaults to `ok`.
    public init(
        key: String, shard: String, path: String, labelPath: String?, shape: [Int], dtype: ShardElementType,
        spacing: [Double], origin: [Double], direction: [Double], checksum: String, bytes: Int, sourceSeries: String,
        preview: String?, warnings: [String] = [], status: String = "ok", labels: LabelSummary? = nil
    ) {
        self.key = key
        self.shard = shard
        self.path = path
        self.labelPath = labelPath
        self.shape = shape
        self.dtype = dtype
        self.spacing = spacing
        self.origin = origin
        self.direction = direction
        self.checksum = checksum
        self.bytes = bytes
        self.sourceSeries = sourceSeries
        self.preview = preview
        self.warnings = warnings
        self.status = status
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case key, shard, path, labelPath = "label_path", shape, dtype, spacing, origin, direction, checksum, bytes
        case sourceSeries = "source_series", preview, warnings, status, labels
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        shard = try c.decode(String.self, forKey: .shard)
        path = try c.decode(String.self, forKey: .path)
        labelPath = try c.decodeIfPresent(String.self, forKey: .labelPath)
        shape = try c.decode([Int].self, forKey: .shape)
        dtype = try c.decode(ShardElementType.self, forKey: .dtype)
        spacing = try c.decode([Double].self, forKey: .spacing)
        origin = try c.decode([Double].self, forKey: .origin)
        direction = try c.decode([Double].self, forKey: .direction)
        checksum = try c.decode(String.self, forKey: .checksum)
        bytes = try c.decode(Int.self, forKey: .bytes)
        sourceSeries = try c.decodeIfPresent(String.self, forKey: .sourceSeries) ?? ""
        preview = try c.decodeIfPresent(String.self, forKey: .preview)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        status = try c.decode(String.self, forKey: .status)
        labels = try c.decodeIfPresent(LabelSummary.self, forKey: .labels)
    }
}
