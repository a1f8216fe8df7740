import Crypto
import Foundation
import HounsfieldDICOM
import HounsfieldHDF5
import HounsfieldTransforms

/// Everything a run does, as one value: read from a JSON file, overridden by flags, validated, and recorded (with
/// its SHA-256 key) in every volume it writes. Field names in JSON are snake_case; see `docs/pipeline.md`.
public struct RunConfiguration: Codable, Sendable, Hashable {
    /// Files and folders to read.
    public var inputs: [String]
    /// Which series are processed (default: CT only).
    public var filters: Filters
    /// What decoding does about tilt and uneven spacing (padding always becomes air: there is no key for it).
    public var loading: Loading
    /// The transform chain. When nil, it is built from `preprocessing` (the usual HU → clip → resample →
    /// normalize order).
    public var transforms: [TransformSpecification]?
    /// The shortcut chain (window, spacing, normalization), used when `transforms` is nil.
    public var preprocessing: Preprocessing
    /// Where and how volumes are stored.
    public var output: Output
    /// How identifiers are hashed.
    public var privacy: Privacy
    /// What is done with label objects found beside the series.
    public var labels: Labels = Labels()
    /// Parallelism, memory, retries, resume and multi-machine splitting: how the run goes, never the voxels it writes.
    public var execution: Execution
    /// The SHA-256 of the salt this configuration must run with, or nil when any salt will do. Set when the
    /// configuration is read from an output folder's `configuration.json`, which records the salt only as its hash:
    /// ``validate()`` then refuses another salt, whose keys would not match the folder's volumes. Not part of the
    /// configuration file's schema.
    public var requiredSaltDigest: String?

    /// A configuration with every default: CT volumes only (at least two slices, no secondary captures), tilt
    /// corrected, uneven spacing resampled, no transforms, float32 gzip shards, one job. Set the fields that matter, then ``validate()``.
    public init(inputs: [String] = [], filters: Filters = .init(), loading: Loading = .init(),
                transforms: [TransformSpecification]? = nil, preprocessing: Preprocessing = .init(),
                output: Output = .init(), privacy: Privacy = .init(), execution: Execution = .init()) {
        self.inputs = inputs
        self.filters = filters
        self.loading = loading
        self.transforms = transforms
        self.preprocessing = preprocessing
        self.output = output
        self.privacy = privacy
        self.execution = execution
    }

    /// Which series are processed. The defaults keep what forms a CT volume (decision 40): CT image objects of at
    /// least two slices; secondary captures, screenshots and single images split off repeated positions are
    /// skipped, each with a reason that names the key that lets them in.
    public struct Filters: Codable, Sendable, Hashable {
        /// Accepted modalities (DICOM Modality); empty accepts all.
        public var modality: [String] = ["CT"]
        /// Series with fewer slices are skipped (default 2: one slice has no z spacing to train on, and is
        /// usually a stray image, a scout copy or a monitoring scan).
        public var minimumSlices: Int = 2
        /// A regular expression the SeriesDescription must contain a match of (case-insensitive); nil accepts all.
        public var seriesDescription: String?
        /// Accepted SliceThickness range in mm, [min, max] (the slice spacing when a series has no SliceThickness).
        public var sliceThickness: [Double]?
        /// Whether secondary captures and screenshots (a Secondary Capture SOP class, or an ImageType such as
        /// `SCREEN SAVE` or `DOSE_INFO`: dose reports, exam summaries, pictures of the scanner's screen) are
        /// processed. Default false: they are pictures, not acquired volumes.
        public var secondaryCaptures: Bool = false
        /// Whether single images split off repeated positions (several images at one table position, such as
        /// bolus-tracking monitor scans) are processed, each as a one-slice volume (`minimum_slices` must allow
        /// one slice too). Default false: repeated images at one position are not a volume.
        public var repeatedPositions: Bool = false
        /// The defaults: CT, at least two slices, no secondary captures or repeated single images, any description
        /// and thickness.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case modality, minimumSlices = "minimum_slices", seriesDescription = "series_description"
            case sliceThickness = "slice_thickness", secondaryCaptures = "secondary_captures"
            case repeatedPositions = "repeated_positions"
        }
    }

    /// What decoding does about gantry tilt and uneven spacing (padding always becomes air, −1024 HU).
    public struct Loading: Codable, Sendable, Hashable {
        /// What to do with a tilted stack (default: correct it).
        public var tilt: TiltPolicy = .correct
        /// What to do with uneven slice spacing (default: resample; `split` acts at scan time).
        public var spacing: SpacingPolicy = .resample
        /// The defaults: correct tilt, resample uneven spacing.
        public init() {}
    }

    /// The shortcut form of a chain: what `hounsfield run`'s flags set.
    public struct Preprocessing: Codable, Sendable, Hashable {
        /// HU window [lower, upper] to clip to.
        public var window: [Double]?
        /// Target spacing (x, y, z) in mm, or one value for all three.
        public var spacing: [Double]?
        /// How `spacing` resamples (default: linear).
        public var interpolation: Resample.Interpolation = .linear
        /// none, minmax (with a window: the window onto [0, 1]), zscore (per volume) or nnunet-ct (needs
        /// dataset statistics in `transforms`).
        public var normalize: String = "none"
        /// The defaults: no window, no resampling, no normalization.
        public init() {}
    }

    /// Where and how volumes are stored.
    public struct Output: Codable, Sendable, Hashable {
        /// The output folder; a batch run needs one, the per-study API ignores it.
        public var folder: String?
        /// The stored element type (default: float32).
        public var dtype: ShardElementType = .float32
        /// Integer dtypes store round(value × scale).
        public var scale: Double = 1
        /// `gzip:N`, `zstd:N`, `lz4`, `blosc:lz4:N` or `none` in files (see `ShardCompression.init(parsing:)`).
        public var compression: ShardCompression = .default
        /// `slabs`, `slabs:N` or `cubes:N` in files (see `ChunkLayout.init(parsing:)`).
        public var chunks: ChunkLayout = .default
        /// A shard is closed once it holds this much; "2GiB", "512MiB" in files.
        public var shardSize: StorageSize = StorageSize.twoGibibytes
        /// A shard is closed after this many volumes; nil leaves only the size limit.
        public var shardVolumes: Int?
        /// Whether to write a QC preview JPEG per volume and an `index.html`.
        public var previews: Bool = false
        /// Whether to write each volume also as NIfTI-1 in nnU-Net's raw layout under `nifti/` (`imagesTr/KEY_0000.nii.gz`,
        /// `labelsTr/KEY.nii.gz`, `dataset.json`), for tools that read NIfTI only. The shards stay the output of
        /// record; the copies are exports (docs/nifti.md).
        public var nifti: Bool = false
        /// The defaults: float32, gzip 1, slabs, 2 GiB shards, no previews, no NIfTI copies, no folder.
        public init() {}

        /// Sets the chunks and the codec of a named layout (`layout: training` in files, `--layout` on the command
        /// line); `chunks` and `compression` given after it override its part.
        public mutating func setLayout(_ layout: ShardLayout) {
            chunks = layout.chunks
            compression = layout.compression
        }

        /// The named layout the chunks and codec amount to, or nil for a custom combination.
        public var layout: ShardLayout? { ShardLayout(chunks: chunks, compression: compression) }
        enum CodingKeys: String, CodingKey {
            case folder, dtype, scale, compression, chunks, shardSize = "shard_size", shardVolumes = "shard_volumes", previews
            case nifti
        }
    }

    /// How series identities are hashed in everything written.
    public struct Privacy: Codable, Sendable, Hashable {
        /// Salt for hashing identifiers; keep it secret and fixed across runs of one dataset so keys stay stable.
        public var salt: String = ""
        /// Store the SeriesInstanceUID in clear (off by default).
        public var keepIdentifiers: Bool = false
        /// The defaults: empty salt, identifiers hashed.
        public init() {}
        enum CodingKeys: String, CodingKey { case salt, keepIdentifiers = "keep_identifiers" }
    }

    /// How the run goes: parallelism, memory, retries, resume and multi-machine splitting. None of it changes a
    /// volume's voxels or key, so none of it enters the configuration key.
    public struct Execution: Codable, Sendable, Hashable {
        /// Series decoded and transformed at once (each uses all cores inside).
        public var jobs: Int = 1
        /// Series decoded at once; nil means `jobs`. Decoding waits on storage more than transforms do, so a slow
        /// network file system wants more decoders than transformers. A series decoded as its chain reads it
        /// (a chain that starts with a linear resampling) is decoded by its transform task: `transformJobs` counts.
        public var decodeJobs: Int?
        /// Series transformed at once; nil means `jobs`.
        public var transformJobs: Int?
        /// Bytes of volumes in flight between stages, e.g. "4GB"; nil picks a quarter of physical memory.
        public var memoryLimit: StorageSize?
        /// Retries of a series after a transient I/O error.
        public var retries: Int = 2
        /// Continue an earlier run in the same folder, skipping what it published (`--resume`).
        public var resume: Bool = false
        /// This process's part of the series when several share the work, in `0..<shardCount`.
        public var shardIndex: Int = 0
        /// How many processes share the work; each takes the series whose hashed identity falls to its `shardIndex`.
        public var shardCount: Int = 1
        /// A name that this process's shard, manifest and report files carry (`shard-NAME-00000.h5`,
        /// `manifest-NAME.jsonl`, `report-NAME.json`), so several processes can write into one folder without
        /// touching each other's files; nil for a single process. A static split names each part `sINDEX`.
        public var writerName: String?
        /// The defaults: one job, two retries, one process, no resume, memory limit a quarter of physical memory.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case jobs, decodeJobs = "decode_jobs", transformJobs = "transform_jobs", memoryLimit = "memory_limit", retries, resume, shardIndex = "shard_index", shardCount = "shard_count", writerName = "writer_name"
        }
    }

    // MARK: - The effective chain and key

    /// The transform chain this configuration runs, validated.
    public func transformChain() throws(ConfigurationError) -> [TransformSpecification] {
        if let transforms { return transforms }
        var chain: [TransformSpecification] = []
        let window = preprocessing.window
        if let window {
            guard window.count == 2, window[0] < window[1] else {
                throw .invalid(path: "preprocessing.window", reason: "give [lower, upper] with lower < upper, e.g. [-1000, 1000]")
            }
            chain.append(.window(Window(minimum: window[0], maximum: window[1])))
        }
        if let spacing = preprocessing.spacing {
            let xyz = spacing.count == 1 ? [spacing[0], spacing[0], spacing[0]] : spacing
            guard xyz.count == 3, xyz.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw .invalid(path: "preprocessing.spacing", reason: "give one spacing or three (x, y, z), all positive, in mm")
            }
            chain.append(.resample(Resample(to: .spacing(xyz[0], xyz[1], xyz[2]), interpolation: preprocessing.interpolation)))
        }
        switch preprocessing.normalize {
        case "none": break
        case "minmax":
            if let window {
                // The window onto [0, 1]: clip again (resampling may fill outside values) and scale by the window.
                chain.append(.window(Window(minimum: window[0], maximum: window[1], output: .unit)))
            } else {
                chain.append(.normalize(.minMax()))
            }
        case "zscore": chain.append(.normalize(.zScore()))
        case "nnunet-ct":
            throw .invalid(path: "preprocessing.normalize", reason: "nnunet-ct needs the dataset's foreground statistics: write a `normalize` step with method nnunet-ct, lower, upper, mean and standardDeviation in `transforms`")
        default:
            throw .invalid(path: "preprocessing.normalize", reason: "'\(preprocessing.normalize)' is not one of none, minmax, zscore, nnunet-ct")
        }
        return chain
    }

    /// Checks every value that can be checked before reading any file.
    public func validate() throws(ConfigurationError) {
        let chain = try transformChain()
        do { _ = try TransformSpecification.compose(chain).makeTransform() } catch {
            throw .invalid(path: transforms == nil ? "preprocessing" : "transforms", reason: error.description)
        }
        do { try output.compression.validate() } catch { throw .invalid(path: "output.compression", reason: error.description) }
        if output.dtype == .uint16 {
            throw .invalid(path: "output.dtype", reason: "uint16 is the type of label maps with class values above 255; store images as float32, float16, int16 or uint8")
        }
        guard output.scale > 0, output.scale.isFinite else { throw .invalid(path: "output.scale", reason: "must be positive") }
        if output.scale != 1 && (output.dtype == .float32 || output.dtype == .float16) {
            throw .invalid(path: "output.scale", reason: "applies to int16 and uint8 only (a [0, 1] window stored as uint8 wants scale 255)")
        }
        if let volumes = output.shardVolumes, volumes < 1 { throw .invalid(path: "output.shard_volumes", reason: "must be at least 1") }
        if output.nifti && output.dtype == .float16 {
            throw .invalid(path: "output.nifti", reason: "NIfTI-1 has no float16: store float32, int16 or uint8, or leave the NIfTI copies off")
        }
        if output.nifti && output.scale != 1 {
            throw .invalid(path: "output.nifti", reason: "NIfTI copies hold the stored values unscaled: use scale 1 with them")
        }
        guard execution.jobs >= 1 else { throw .invalid(path: "execution.jobs", reason: "must be at least 1") }
        if let n = execution.decodeJobs, n < 1 { throw .invalid(path: "execution.decode_jobs", reason: "must be at least 1") }
        if let n = execution.transformJobs, n < 1 {
            throw .invalid(path: "execution.transform_jobs", reason: "must be at least 1")
        }
        guard execution.retries >= 0 else { throw .invalid(path: "execution.retries", reason: "must be 0 or more") }
        guard execution.shardCount >= 1, (0..<execution.shardCount).contains(execution.shardIndex) else {
            throw .invalid(path: "execution.shard_index", reason: "must be in 0..<shard_count (\(execution.shardCount))")
        }
        if let name = execution.writerName, !OutputFolder.isValidWorker(name) {
            throw .invalid(path: "execution.writer_name", reason: "use letters, digits, '_' and '.' (no '-')")
        }
        if let pattern = filters.seriesDescription, (try? Regex(pattern)) == nil {
            throw .invalid(path: "filters.series_description", reason: "'\(pattern)' is not a valid regular expression")
        }
        guard filters.minimumSlices >= 1 else {
            throw .invalid(path: "filters.minimum_slices", reason: "must be at least 1")
        }
        if let range = filters.sliceThickness, range.count != 2 || range[0] > range[1] {
            throw .invalid(path: "filters.slice_thickness", reason: "give [min, max] in mm")
        }
        if let required = requiredSaltDigest, required != saltDigest {
            throw .invalid(path: "privacy.salt", reason: """
                the recorded configuration was run with another salt (SHA-256 \(required.prefix(12))…, this one's \
                \(saltDigest.prefix(12))…): give that run's salt (--salt, or privacy.salt) so the volume keys match \
                its volumes
                """)
        }
    }

    /// The SHA-256 of `privacy.salt`, in hex: what the configuration key and `configuration.json` record instead of
    /// the salt, which must not leak.
    public var saltDigest: String { SHA256.hash(data: Data(privacy.salt.utf8)).hex }

    /// Canonical JSON of what determines the output voxels and keys (not inputs, folders or execution details), so
    /// reruns and workers with the same processing share the key.
    public var processingJSON: Data { processingJSON(saltDigest: saltDigest) }

    /// `processingJSON` with a given salt digest: how a recorded configuration, which has the digest but not the
    /// salt, checks that it reproduces its own key.
    func processingJSON(saltDigest: String) -> Data {
        struct Processing: Encodable {
            var filters: KeyedFilters, loading: Loading, transforms: [TransformSpecification], dtype: ShardElementType
            var scale: Double, salt: String
            /// Only when not the defaults: the key of a configuration that leaves labels alone is what it was.
            var labels: Labels?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let chain = (try? transformChain()) ?? []
        // The salt enters only as its hash: the configuration key must not leak it.
        return (try? encoder.encode(Processing(filters: KeyedFilters(filters), loading: loading, transforms: chain,
                                               dtype: output.dtype, scale: output.scale, salt: saltDigest,
                                               labels: labels.isDefault ? nil : labels))) ?? Data()
    }

    /// The filters as the configuration key sees them. `secondary_captures` and `repeated_positions` came later
    /// (decision 40); set to true they select what runs selected before they existed, so they are left out of the
    /// key then, and a folder written before them can be resumed by writing `secondary_captures: true`,
    /// `repeated_positions: true` and `minimum_slices: 1` (the earlier default).
    struct KeyedFilters: Encodable {
        var modality: [String]
        var minimumSlices: Int
        var seriesDescription: String?
        var sliceThickness: [Double]?
        var secondaryCaptures: Bool?
        var repeatedPositions: Bool?

        init(_ filters: Filters) {
            modality = filters.modality
            minimumSlices = filters.minimumSlices
            seriesDescription = filters.seriesDescription
            sliceThickness = filters.sliceThickness
            secondaryCaptures = filters.secondaryCaptures ? nil : false
            repeatedPositions = filters.repeatedPositions ? nil : false
        }

        enum CodingKeys: String, CodingKey {
            case modality, minimumSlices = "minimum_slices", seriesDescription = "series_description"
            case sliceThickness = "slice_thickness", secondaryCaptures = "secondary_captures"
            case repeatedPositions = "repeated_positions"
        }
    }

    /// SHA-256 of `processingJSON`: recorded as `configuration_key` in every volume.
    public var key: String { SHA256.hash(data: processingJSON).hex }

    /// What `configuration.json` records so another run or a service can start from it: the same schema as a
    /// configuration file, with the chain spelled out as `transforms` (whatever `preprocessing` said) and without
    /// what belongs to one run only (inputs, output folder, execution) or must not be written down (the salt).
    public var recordedJSON: Data { fileJSON(keepingSalt: false) }

    /// The configuration in the configuration-file schema, with the chain spelled out as `transforms` and without
    /// inputs, the output folder, execution or `preprocessing`; the salt kept or left out.
    func fileJSON(keepingSalt: Bool) -> Data {
        var recorded = self
        recorded.transforms = try? transformChain()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(recorded),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return Data("{}".utf8) }
        for key in ["inputs", "execution", "preprocessing"] { object[key] = nil }
        if var output = object["output"] as? [String: Any] { output["folder"] = nil; object["output"] = output }
        if !keepingSalt, var privacy = object["privacy"] as? [String: Any] { privacy["salt"] = nil; object["privacy"] = privacy }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
