import HounsfieldCore
import HounsfieldHDF5

/// A volume at the end of the chain, cast to the output dtype, with what the shard records about it. The per-study
/// API returns these; the batch run writes them.
public struct ProcessedVolume: Sendable {
    /// The stable output key (salted hash of the series identity unless identifiers are kept).
    public var key: String
    /// The voxels in the output dtype, with their geometry.
    public var image: StoredImage
    /// What a shard would record with the volume: provenance, transform, keys, warnings.
    public var metadata: VolumeMetadata
    /// SeriesDescription, for people (reports); not stored in shards.
    public var seriesDescription: String?
    /// The labels on the image's grid, when label objects were paired with the series and could be placed.
    public var labels: LabelMap?
    /// The label objects the labels came from (hashed unless identifiers are kept).
    public var labelSources: [String] = []
    /// What went wrong with the labels without stopping the image (an object left out names its file and why).
    public var labelWarnings: [String] = []

    /// Voxel counts of the image.
    public var size: GridSize { image.size }
    /// Where the image sits in patient space (LPS, mm).
    public var geometry: Geometry { image.geometry }
}

/// Voxels in the output dtype.
public enum StoredImage: Sendable, Hashable {
    /// Stored as float32.
    case float32(Volume<Float32>)
    /// Stored as float16.
    case float16(Volume<Float16>)
    /// Stored as int16: round(value × scale), saturated.
    case int16(Volume<Int16>)
    /// Stored as uint8: round(value × scale), saturated.
    case uint8(Volume<UInt8>)

    /// Voxel counts of the image.
    public var size: GridSize {
        switch self {
        case .float32(let v): v.size
        case .float16(let v): v.size
        case .int16(let v): v.size
        case .uint8(let v): v.size
        }
    }

    /// Where the image sits in patient space (LPS, mm).
    public var geometry: Geometry {
        switch self {
        case .float32(let v): v.geometry
        case .float16(let v): v.geometry
        case .int16(let v): v.geometry
        case .uint8(let v): v.geometry
        }
    }

    /// The element type, by numpy's name.
    public var elementType: ShardElementType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .int16: .int16
        case .uint8: .uint8
        }
    }

    /// Bytes of the voxels, uncompressed.
    public var byteCount: Int { size.voxelCount * elementType.size }

    /// The checksum the manifest records for this image once written (`sha256-slices:…`, docs/format.md).
    public var checksum: String {
        switch self {
        case .float32(let v): v.storedChecksum
        case .float16(let v): v.storedChecksum
        case .int16(let v): v.storedChecksum
        case .uint8(let v): v.storedChecksum
        }
    }

    /// Calls `body` with the voxels' bytes as a shard stores them (C order, little-endian, ``byteCount`` bytes),
    /// without copying them.
    package func withStoredBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch self {
        case .float32(let v): try v.voxels.withUnsafeBytes(body)
        case .float16(let v): try v.voxels.withUnsafeBytes(body)
        case .int16(let v): try v.voxels.withUnsafeBytes(body)
        case .uint8(let v): try v.voxels.withUnsafeBytes(body)
        }
    }

    /// The voxels as Float32 (a copy unless already Float32).
    public var float32: Volume<Float32> {
        switch self {
        case .float32(let v): v
        case .float16(let v): v.converted(to: Float32.self)
        case .int16(let v): v.converted(to: Float32.self)
        case .uint8(let v): v.converted(to: Float32.self)
        }
    }

    /// Casts a Float32 volume: `Target(value × scale)`, rounding and saturating as `VoxelScalar` says.
    static func cast(_ volume: Volume<Float32>, to type: ShardElementType, scale: Double) -> StoredImage {
        switch type {
        // Scaling applies to integer dtypes only (format.md: value_scale is 1 for floats).
        case .float32: .float32(volume)
        case .float16: .float16(volume.converted(to: Float16.self))
        case .int16: .int16(volume.converted(to: Int16.self, scale: scale))
        case .uint8: .uint8(volume.converted(to: UInt8.self, scale: scale))
        // Unreachable: every SeriesProcessor validates its configuration, which refuses uint16 images.
        case .uint16: preconditionFailure("uint16 is a label map's type, refused for images by RunConfiguration.validate()")
        }
    }

    /// Writes itself (and its labels) with a shard writer; returns its manifest line to be.
    func write(
        to writer: ShardWriter, key: String, metadata: VolumeMetadata, labels: LabelMap? = nil,
        labelSources: [String] = [], labelWarnings: [String] = []
    ) throws(ShardError) -> ManifestEntry {
        switch self {
        case .float32(let v):
            try writer.write(v, labels: labels, sources: labelSources, labelWarnings: labelWarnings, key: key, metadata: metadata)
        case .float16(let v):
            try writer.write(v, labels: labels, sources: labelSources, labelWarnings: labelWarnings, key: key, metadata: metadata)
        case .int16(let v):
            try writer.write(v, labels: labels, sources: labelSources, labelWarnings: labelWarnings, key: key, metadata: metadata)
        case .uint8(let v):
            try writer.write(v, labels: labels, sources: labelSources, labelWarnings: labelWarnings, key: key, metadata: metadata)
        }
    }
}
