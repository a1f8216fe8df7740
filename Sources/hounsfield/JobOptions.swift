import ArgumentParser
import Foundation
import Hounsfield

/// The flags that describe a job (what is done to every series, and how the output is written), shared by `run`
/// and `coordinator`: a coordinated run takes the same job as a single-process one, and hands it to its workers.
struct JobOptions: ParsableArguments {
    @Option(help: "Configuration file, JSON or YAML (.yaml, .yml; see docs/pipeline.md), or an output folder of an earlier run to repeat its preprocessing (give its --salt).")
    var config: String?

    @Option(help: "Target spacing in mm: X or X,Y,Z.")
    var spacing: String?

    @Option(help: "HU window to clip to, as LEVEL,WIDTH (e.g. 40,400).")
    var window: String?

    @Option(help: "A named window: \(Window.Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var windowPreset: Window.Preset?

    @Option(help: "none, minmax (with a window: the window onto [0, 1]), zscore, nnunet-ct.")
    var normalize: String?

    @Option(help: "nearest, linear or bspline.")
    var interpolation: Resample.Interpolation?

    @Option(help: "Output type: float32, float16, int16, uint8.")
    var dtype: ShardElementType?

    @Option(help: ArgumentHelp(
        "Storage preset: training (32³ cubes, Blosc LZ4: random patches for model training; h5py needs hdf5plugin) or archive (the default: slabs, gzip 1: whole volumes, any HDF5 reader without plugins).",
        discussion: "--chunks and --compression override its parts."))
    var layout: ShardLayout?

    @Option(help: "gzip:N (default gzip:1), zstd:N, lz4, blosc:COMPRESSOR:N (lz4, lz4hc, blosclz, zstd; level 1-9) or none.")
    var compression: ShardCompression?

    @Option(help: "Chunk layout: slabs, slabs:N or cubes:N.")
    var chunks: ChunkLayout?

    @Option(help: "Series decoded and transformed at once (each uses all cores).")
    var jobs: Int?

    @Option(help: "Series decoded at once, when it should differ from --jobs (e.g. slow network storage).")
    var decodeJobs: Int?

    @Option(help: "Series transformed at once, when it should differ from --jobs.")
    var transformJobs: Int?

    @Option(help: "Bytes of volumes in flight between stages, e.g. 4GB.")
    var memoryLimit: StorageSize?

    @Flag(help: "Write a QC preview per volume and index.html.")
    var previews = false

    @Flag(help: "Also write each volume and its label as NIfTI under OUTPUT/nifti, in nnU-Net's raw layout (imagesTr, labelsTr, dataset.json).")
    var nifti = false

    @Flag(help: "Leave label objects (DICOM SEG, RTSTRUCT, NIfTI label maps) out: images only.")
    var noLabels = false

    @Option(help: "When a label object cannot be placed: write-image (the image alone, with a warning; the default) or skip-volume.")
    var labelFailure: RunConfiguration.Labels.FailurePolicy?

    @Option(help: "Salt for hashing identifiers in outputs (keep it fixed for one dataset); or set HOUNSFIELD_SALT, which stays out of `ps` and job accounting.")
    var salt: String?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if let decodeJobs, decodeJobs < 1 { throw ValidationError("--decode-jobs must be at least 1") }
        if let transformJobs, transformJobs < 1 { throw ValidationError("--transform-jobs must be at least 1") }
    }

    /// The configuration file (if any; or `base`, read from it by the caller), overridden by these flags.
    func configuration(base: RunConfiguration? = nil) throws -> RunConfiguration {
        var c = try base ?? config.map { path throws(ConfigurationError) in try ConfigurationFile.load(path) } ?? RunConfiguration()
        try c.requireShortcutsApply([("--spacing", spacing), ("--window", window), ("--window-preset", windowPreset?.rawValue),
                                     ("--normalize", normalize), ("--interpolation", interpolation?.rawValue)]
            .compactMap { $0.1 == nil ? nil : $0.0 })
        if let spacing { try c.preprocessing.setSpacing(spacing) }
        if let window { try c.preprocessing.setWindow(levelAndWidth: window) }
        if let windowPreset { c.preprocessing.setWindow(windowPreset) }
        if let normalize { c.preprocessing.normalize = normalize }
        if let interpolation { c.preprocessing.interpolation = interpolation }
        if let dtype { c.output.dtype = dtype }
        if let layout { c.output.setLayout(layout) }
        if let compression { c.output.compression = compression }
        if let chunks { c.output.chunks = chunks }
        if let jobs { c.execution.jobs = jobs }
        if let decodeJobs { c.execution.decodeJobs = decodeJobs }
        if let transformJobs { c.execution.transformJobs = transformJobs }
        if let memoryLimit { c.execution.memoryLimit = memoryLimit }
        if previews { c.output.previews = true }
        if nifti { c.output.nifti = true }
        if noLabels { c.labels.pair = false }
        if let labelFailure { c.labels.onFailure = labelFailure }
        if let salt = salt ?? ProcessInfo.processInfo.environment["HOUNSFIELD_SALT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            c.privacy.salt = salt
        }
        return c
    }
}

extension Window.Preset: ExpressibleByArgument {}

extension RunConfiguration.Labels.FailurePolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.replacingOccurrences(of: "-", with: "_")) }
    public static var allValueStrings: [String] { allCases.map { $0.rawValue.replacingOccurrences(of: "_", with: "-") } }
}
extension Resample.Interpolation: ExpressibleByArgument {}
extension ShardElementType: ExpressibleByArgument {
    /// The image types only: uint16 is what label maps with class values above 255 are stored as.
    public init?(argument: String) {
        guard let type = Self(rawValue: argument), type != .uint16 else { return nil }
        self = type
    }
    public static var allValueStrings: [String] { allCases.filter { $0 != .uint16 }.map(\.rawValue) }
}

extension ShardCompression: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension ShardLayout: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension ChunkLayout: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension StorageSize: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
