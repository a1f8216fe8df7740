import HounsfieldCore

/// What a shard says about one stored volume, without its voxels.
public struct StoredVolume: Sendable, Hashable {
    /// The volume's key.
    public var key: String
    /// The shard's file name.
    public var shard: String
    /// Voxel counts (x, y, z); the dataset's shape is (z, y, x).
    public var size: GridSize
    /// How the image's voxels are stored.
    public var elementType: ShardElementType
    /// Where the voxels sit in patient space (LPS, mm).
    public var geometry: Geometry
    /// What the shard records besides voxels and geometry: provenance, transform, window, warnings.
    public var metadata: VolumeMetadata
    /// The image checksum recorded when it was written ("" when absent).
    public var checksum: String
    /// The label's element type, when the volume has a label.
    public var labelElementType: ShardElementType?
    /// The label checksum recorded when it was written, when the volume has a label.
    public var labelChecksum: String?
    /// Bytes the image (and label) occupy in the shard.
    public var storedBytes: Int
    /// Chunk shape (z, y, x) of the image.
    public var chunkShape: [Int]
    /// HDF5 filter ids of the image, in write order.
    public var filters: [Int]
    /// The `layout` attribute: `training`, `archive` or `custom` (see ``ShardLayout``); nil for volumes written
    /// before layouts had names.
    public var layout: String? = nil
    /// The label's layout, classes and voxel counts (the `label_summary` attribute), when the volume has a label.
    public var labels: LabelSummary? = nil

    /// The manifest line for this volume.
    public func manifestEntry(preview: String? = nil) -> ManifestEntry {
        ManifestEntry(
            key: key, shard: shard, path: "/\(ShardFormat.volumesGroup)/\(key)/image",
            labelPath: labelElementType == nil ? nil : "/\(ShardFormat.volumesGroup)/\(key)/label",
            shape: [size.z, size.y, size.x], dtype: elementType, spacing: geometry.spacing.array,
            origin: geometry.origin.array, direction: geometry.direction.rowMajor, checksum: checksum,
            bytes: storedBytes, sourceSeries: metadata.sourceSeries, preview: preview, warnings: metadata.warnings,
            labels: labels)
    }
}
