import HounsfieldCore

/// What a shard records about a volume besides its voxels and geometry (`docs/format.md`, volume attributes).
/// The pipeline fills it; code that writes shards directly sets what it knows and leaves the rest at the defaults.
public struct VolumeMetadata: Sendable, Hashable {
    /// Voxel counts of the series as decoded, before transforms.
    public var originalSize: GridSize?
    /// Spacing (x, y, z) of the series as decoded.
    public var originalSpacing: Vector3?
    /// The transform chain as canonical JSON, "" when none.
    public var transform: String
    /// SHA-256 of `transform`.
    public var transformKey: String
    /// SHA-256 of the run's effective configuration, "" when not written by a run.
    public var configurationKey: String
    /// The HU window the chain clipped to, if any.
    public var window: ClosedRange<Double>?
    /// JSON of the normalization applied, with its parameters, if any.
    public var normalization: String?
    /// Integer dtypes store round(value × scale).
    public var valueScale: Double
    /// Salted hash of the series identity (never the UID itself unless the user asked for it).
    public var sourceSeries: String
    /// Salted hash of the StudyInstanceUID, "" when unknown.
    public var sourceStudy: String
    /// Modality of the source series (`CT`, …), "" when unknown.
    public var modality: String
    /// Warnings from discovery and decoding, as sentences.
    public var warnings: [String]
    /// The software that made the volume (``ShardFormat/softwareVersion`` by default).
    public var softwareVersion: String

    /// Metadata with what the caller knows; everything else empty (`valueScale` 1).
    public init(
        originalSize: GridSize? = nil, originalSpacing: Vector3? = nil, transform: String = "",
        transformKey: String = "", configurationKey: String = "", window: ClosedRange<Double>? = nil,
        normalization: String? = nil, valueScale: Double = 1, sourceSeries: String = "", sourceStudy: String = "",
        modality: String = "", warnings: [String] = [], softwareVersion: String = ShardFormat.softwareVersion
    ) {
        self.originalSize = originalSize
        self.originalSpacing = originalSpacing
        self.transform = transform
        self.transformKey = transformKey
        self.configurationKey = configurationKey
        self.window = window
        self.normalization = normalization
        self.valueScale = valueScale
        self.sourceSeries = sourceSeries
        self.sourceStudy = sourceStudy
        self.modality = modality
        self.warnings = warnings
        self.softwareVersion = softwareVersion
    }
}
