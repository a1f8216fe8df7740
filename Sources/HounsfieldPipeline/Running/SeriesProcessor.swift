import Crypto
import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
import HounsfieldNIfTI
import HounsfieldTransforms
import Synchronization

/// What happens to one series, from descriptor to processed volume: the single code path that the batch run and
/// the per-study API share, so both give the same bytes for the same configuration.
public struct SeriesProcessor: Sendable {
    /// The configuration, validated.
    public let configuration: RunConfiguration
    let chain: [TransformSpecification]
    let transform: any VolumeTransform
    let loadOptions: LoadOptions
    let transformJSON: String
    let transformKey: String
    let configurationKey: String

    /// Validates `configuration` and builds its chain and keys once. Throws
    /// ``ConfigurationError/invalid(path:reason:)`` naming the key at fault.
    public init(configuration: RunConfiguration) throws(ConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        chain = try configuration.transformChain()
        do { transform = try TransformSpecification.compose(chain).makeTransform() } catch {
            throw .invalid(path: "transforms", reason: error.description)
        }
        loadOptions = LoadOptions(tilt: configuration.loading.tilt, spacing: configuration.loading.spacing)
        let specification = TransformSpecification.compose(chain)
        transformJSON = String(decoding: specification.canonicalJSON, as: UTF8.self)
        transformKey = specification.key
        configurationKey = configuration.key
    }

    // MARK: - Selection

    /// Why a series is not processed, or nil when it passes the filters. Each reason ends with the configuration
    /// key that decided it (`(filters.minimum_slices 2)`), so a user can see what to change to let the series in.
    /// The filters are checked in this order: modality, secondary captures, repeated positions, minimum slices,
    /// series description, slice thickness.
    public func rejection(of series: SeriesDescriptor) -> String? {
        let filters = configuration.filters
        let modality = series.modality ?? ""
        if let reason = rejection(ofModality: modality.isEmpty ? "(none)" : modality, matching: modality) { return reason }
        if !filters.secondaryCaptures, let capture = series.secondaryCapture {
            return "\(capture): a picture of a screen or report, not an acquired volume (filters.secondary_captures false)"
        }
        if !filters.repeatedPositions, series.slices.count == 1, let split = series.repeatedPositionSplit {
            return "one of \(split.slicesBefore) images at repeated table positions, split into single images by \(split.attribute ?? "order of appearance"): repeated scans at one position (such as bolus-tracking monitor images) are not a volume (filters.repeated_positions false)"
        }
        // SliceThickness (0018,0050) is what people select reconstructions by (thin vs thick); a series without it
        // is judged by its slice spacing, and the reason says which one was used.
        return rejection(
            slices: series.slices.count, description: (noun: "series description", value: series.seriesDescription ?? ""),
            thickness: { series.images.lazy.compactMap(\.sliceThickness).first.map { ($0, "slice thickness") }
                ?? (series.geometry.spacing.z, "slice spacing (no SliceThickness)") })
    }

    /// Why a NIfTI image is not processed, or nil. The filters a NIfTI file can answer apply: modality (only when
    /// `dataset.json` names the channel: NIfTI itself records none), minimum slices, series description (matched
    /// against the case or file name) and slice thickness (the slice spacing).
    public func rejection(of input: NIfTIInput) -> String? {
        if let modality = input.modality, let reason = rejection(ofModality: "\(modality) (dataset.json)", matching: modality) {
            return reason
        }
        return rejection(slices: input.size.z, description: (noun: "name", value: input.description),
                         thickness: { (input.geometry.spacing.z, "slice spacing") })
    }

    /// `filters.modality` against `modality` (named `shown` in the reason), for a DICOM series and a NIfTI image.
    private func rejection(ofModality shown: String, matching modality: String) -> String? {
        let allowed = configuration.filters.modality
        guard !allowed.isEmpty, !allowed.contains(where: { $0.caseInsensitiveCompare(modality) == .orderedSame }) else {
            return nil
        }
        return "modality \(shown) is not in \(allowed.joined(separator: ", ")) (filters.modality)"
    }

    /// `filters.minimum_slices`, `series_description` and `slice_thickness`, in that order, for a DICOM series and a
    /// NIfTI image: the slice count, the text the description pattern is matched against (and what the reason calls
    /// it), and the thickness with its name (asked for only when a range is set).
    private func rejection(
        slices: Int, description: (noun: String, value: String), thickness: () -> (Double, String)
    ) -> String? {
        let filters = configuration.filters
        if slices < filters.minimumSlices {
            return "\(slices) slice\(slices == 1 ? "" : "s"), fewer than the minimum of \(filters.minimumSlices) (filters.minimum_slices)"
        }
        if let pattern = filters.seriesDescription, let regex = try? Regex(pattern).ignoresCase(),
           description.value.firstMatch(of: regex) == nil {
            return "\(description.noun) '\(description.value)' does not match '\(pattern)' (filters.series_description)"
        }
        if let range = filters.sliceThickness, range.count == 2 {
            let (value, name) = thickness()
            if value < range[0] || value > range[1] {
                return name + String(format: " %.2f mm is outside [%g, %g] (filters.slice_thickness)", value, range[0], range[1])
            }
        }
        return nil
    }

    // MARK: - Identity

    /// The output key of a series: the salted SHA-256 of its identity (UID plus split reason), 24 hex digits; or,
    /// when identifiers are kept, the identity itself with `#` replaced.
    public func key(for series: SeriesDescriptor) -> String {
        key(forIdentity: series.key)
    }

    /// The output key of a volume whose identity (a series' UID and split, a NIfTI input's
    /// ``NIfTIInput/identity``) is `identity`.
    public func key(forIdentity identity: String) -> String {
        if configuration.privacy.keepIdentifiers {
            let clear = String(identity.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            return String(clear.prefix(128))
        }
        return String(hash(identity).prefix(24))
    }

    /// Salted SHA-256 (hex) of an identifier.
    public func hash(_ identifier: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(configuration.privacy.salt.utf8))
        hasher.update(data: Data([0]))
        hasher.update(data: Data(identifier.utf8))
        return hasher.finalize().hex
    }

    // MARK: - Stages

    /// Decodes the series to HU on the configured grid (tilt and spacing handled as configured).
    public func decode(_ series: SeriesDescriptor) async throws(DICOMError) -> Volume<Float32> {
        try await series.loadVolume(loadOptions)
    }

    /// Decodes what the plan names: a DICOM series to HU on its planned grid, a NIfTI image as stored (scaled).
    public func decode(_ plan: SeriesPlan) async throws -> Volume<Float32> {
        switch plan.image {
        case .series(let series): return try await decode(series)
        case .nifti(let input):
            return try await ParallelLoop.offload { () throws(NIfTIError) -> Volume<Float32> in try input.decode() }
        }
    }

    /// Runs the chain and casts, on Dispatch threads (never blocking the cooperative pool).
    ///
    /// The decoded volume is consumed: when the caller holds no other copy, the chain works on its voxels in place
    /// (a clip to the window then costs no memory), which keeps a series' peak at about decoded + resampled.
    public func transform(_ volume: consuming Volume<Float32>, of series: SeriesDescriptor) async throws(TransformError) -> ProcessedVolume {
        try await transform(volume, source: SourceFacts(series))
    }

    /// ``transform(_:of:)`` for the volume of a plan (a DICOM series or a NIfTI image).
    public func transform(_ volume: consuming Volume<Float32>, of plan: SeriesPlan) async throws(TransformError) -> ProcessedVolume {
        try await transform(volume, source: SourceFacts(plan.image))
    }

    private func transform(_ volume: consuming Volume<Float32>, source: SourceFacts) async throws(TransformError) -> ProcessedVolume {
        let metadata = metadata(for: source, decodedSize: volume.size, spacing: volume.geometry.spacing)
        let transform = self.transform
        let configuration = self.configuration
        let handoff = Handoff(consume volume)
        let image = try await ParallelLoop.offload { () throws(TransformError) -> StoredImage in
            var working = handoff.take()
            try transform.apply(inPlace: &working)
            return StoredImage.cast(working, to: configuration.output.dtype, scale: configuration.output.scale)
        }
        return ProcessedVolume(key: key(forIdentity: source.identity), image: image, metadata: metadata,
                               seriesDescription: source.description)
    }

    /// Whether ``transformPlanes(of:)`` will decode `series` as the chain reads it: the chain starts with a linear
    /// resampling (windows around it included), and the series is a stack of one slice per file that needs no
    /// tilt or spacing correction. Throws what decoding would throw for a `reject` policy.
    public func streams(_ series: SeriesDescriptor) throws(DICOMError) -> Bool {
        transform.readsPlanes ? try series.planes(loadOptions) != nil : false
    }

    /// Decoding and the chain in one pass, when the chain reads its input plane by plane: each task decodes the
    /// slices its output slices need, as it needs them, so the decoded volume (the largest buffer of a series) is
    /// never allocated. The voxels are those of ``transform(_:of:)`` after ``decode(_:)``, bit for bit. Returns nil,
    /// having decoded nothing, when the chain or the series does not allow it (see ``streams(_:)``).
    ///
    /// Throws ``DICOMError`` (naming the file) when a slice cannot be decoded, ``TransformError`` for the chain.
    /// Cancelling the calling task stops the work at the next slice.
    public func transformPlanes(of series: SeriesDescriptor) async throws -> ProcessedVolume? {
        let cancelled = CancellationFlag()
        guard transform.readsPlanes,
              let planes = try series.planes(loadOptions, isCancelled: { cancelled.isSet })
        else { return nil }
        return try await transformPlanes(planes, source: SourceFacts(series), cancelled: cancelled)
    }

    /// ``transformPlanes(of:)-(SeriesDescriptor)`` for a NIfTI image: the file is read and inflated whole, and its
    /// voxels are converted plane by plane as the chain reads them, so the Float32 volume is never allocated.
    public func transformPlanes(of input: NIfTIInput) async throws -> ProcessedVolume? {
        guard transform.readsPlanes else { return nil }
        let cancelled = CancellationFlag()
        let planes = try await ParallelLoop.offload { () throws(NIfTIError) in
            try input.planes(isCancelled: { cancelled.isSet })
        }
        return try await transformPlanes(planes, source: SourceFacts(input), cancelled: cancelled)
    }

    private func transformPlanes(
        _ planes: any PlaneSource, source: SourceFacts, cancelled: CancellationFlag
    ) async throws -> ProcessedVolume? {
        let transform = self.transform
        let configuration = self.configuration
        let outcome = await withTaskCancellationHandler {
            await ParallelLoop.offload { () -> Result<StoredImage?, any Error> in
                Result {
                    guard let working = try transform.apply(toPlanesOf: planes) else { return nil }
                    return StoredImage.cast(working, to: configuration.output.dtype, scale: configuration.output.scale)
                }
            }
        } onCancel: {
            cancelled.set()
        }
        guard let image = try outcome.get() else { return nil }
        return ProcessedVolume(key: key(forIdentity: source.identity), image: image,
                               metadata: metadata(for: source, decodedSize: planes.size, spacing: planes.geometry.spacing),
                               seriesDescription: source.description)
    }

    /// Whether a labelled plan's labels need its image to follow it (a crop whose box is found in the image): the
    /// image is then decoded whole, once, and that decoded volume goes through the chain again beside the labels.
    func labelsNeedImage(_ plan: SeriesPlan) -> Bool {
        !plan.labels.isEmpty && transform.labelsNeedImage
    }

    /// Whether the plan is decoded as its chain reads it: it streams, unless its labels need the decoded image
    /// (``labelsNeedImage(_:)``), which streaming never holds whole.
    func decodesAsRead(_ plan: SeriesPlan) -> Bool {
        plan.streams && !labelsNeedImage(plan)
    }

    /// Decode, then transform: the whole path of one series (in one pass when the chain reads planes).
    public func process(_ series: SeriesDescriptor) async throws -> ProcessedVolume {
        try await process(SeriesSelection(processor: self).plan(series))
    }

    /// The whole path of a planned series: in one pass when the plan says it streams, else decoded whole, then
    /// transformed. The pipeline's stages run these same calls, so the per-study API and the service give the same
    /// bytes. The volume carries the plan's key (a later version's key has its `-vN`).
    public func process(_ plan: SeriesPlan) async throws -> ProcessedVolume {
        // A streaming plan whose planes are declined after all (the series changed on disk) is decoded whole.
        var streamed: ProcessedVolume?
        if decodesAsRead(plan) {
            streamed = switch plan.image {
            case .series(let series): try await transformPlanes(of: series)
            case .nifti(let input): try await transformPlanes(of: input)
            }
        }
        var volume: ProcessedVolume
        var kept: Volume<Float32>?
        if let streamed {
            volume = streamed
        } else {
            let decoded = try await decode(plan)
            // Kept only when the labels follow it; otherwise the chain gets the only reference and works in place.
            kept = labelsNeedImage(plan) ? decoded : nil
            volume = try await transform(consume decoded, of: plan)
        }
        volume.key = plan.key
        try await attachLabels(to: &volume, plan: plan, decodedImage: kept)
        return volume
    }

    func metadata(for source: SourceFacts, decodedSize: GridSize, spacing: Vector3) -> VolumeMetadata {
        var window: ClosedRange<Double>?
        var normalization: String?
        for step in chain {
            switch step {
            case .window(let w) where window == nil:
                window = w.minimum...w.maximum
                if w.output != .hounsfield { normalization = #"{"method":"window","output":"\#(w.output.rawValue)","minimum":\#(w.minimum),"maximum":\#(w.maximum)}"# }
            case .window(let w) where w.output != .hounsfield:
                normalization = #"{"method":"window","output":"\#(w.output.rawValue)","minimum":\#(w.minimum),"maximum":\#(w.maximum)}"#
            case .normalize(let n):
                normalization = String(decoding: TransformSpecification.normalize(n).canonicalJSON, as: UTF8.self)
            default: break
            }
        }
        let study = source.study
        return VolumeMetadata(
            originalSize: decodedSize, originalSpacing: spacing, transform: transformJSON,
            transformKey: transformKey, configurationKey: configurationKey, window: window,
            normalization: normalization,
            valueScale: configuration.output.dtype == .int16 || configuration.output.dtype == .uint8 ? configuration.output.scale : 1,
            sourceSeries: configuration.privacy.keepIdentifiers ? source.identity : hash(source.identity),
            sourceStudy: study.isEmpty ? "" : (configuration.privacy.keepIdentifiers ? study : hash(study)),
            modality: source.modality, warnings: source.warnings)
    }
}

/// What the volume's metadata says of where it came from, for a DICOM series and a NIfTI image alike.
struct SourceFacts {
    /// The identity its key and `source_series` are made from.
    var identity: String
    var study: String
    var modality: String
    var description: String?
    var warnings: [String]

    init(_ series: SeriesDescriptor) {
        identity = series.key
        study = series.studyInstanceUID ?? ""
        modality = series.modality ?? ""
        description = series.seriesDescription
        warnings = series.warnings.map(\.message)
    }

    init(_ image: SeriesPlan.Image) {
        switch image {
        case .series(let series): self.init(series)
        case .nifti(let input): self.init(input)
        }
    }

    init(_ input: NIfTIInput) {
        identity = input.identity
        study = ""
        modality = input.modality ?? ""
        description = input.description
        warnings = []
    }
}

/// Moves a value into a `@Sendable` closure that runs once, leaving no copy behind (a captured `let` would keep a
/// second reference to the voxels and force a copy on the first in-place write).
private final class Handoff<Value: Sendable>: Sendable {
    private let slot: Mutex<Value?>

    init(_ value: consuming Value) { slot = Mutex(value) }

    /// The value; a second call is a programming error.
    func take() -> Value { slot.withLock { $0.take()! } }
}
