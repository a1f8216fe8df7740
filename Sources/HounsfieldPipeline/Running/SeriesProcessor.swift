import Crypto
import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldHDF5
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
        if !filters.modality.isEmpty {
            let modality = series.modality ?? ""
            if !filters.modality.contains(where: { $0.caseInsensitiveCompare(modality) == .orderedSame }) {
                return "modality \(modality.isEmpty ? "(none)" : modality) is not in \(filters.modality.joined(separator: ", ")) (filters.modality)"
            }
        }
        if !filters.secondaryCaptures, let capture = series.secondaryCapture {
            return "\(capture): a picture of a screen or report, not an acquired volume (filters.secondary_captures false)"
        }
        if !filters.repeatedPositions, series.slices.count == 1, let split = series.repeatedPositionSplit {
            return "one of \(split.slicesBefore) images at repeated table positions, split into single images by \(split.attribute ?? "order of appearance"): repeated scans at one position (such as bolus-tracking monitor images) are not a volume (filters.repeated_positions false)"
        }
        if series.slices.count < filters.minimumSlices {
            return "\(series.slices.count) slice\(series.slices.count == 1 ? "" : "s"), fewer than the minimum of \(filters.minimumSlices) (filters.minimum_slices)"
        }
        if let pattern = filters.seriesDescription, let regex = try? Regex(pattern).ignoresCase(),
           (series.seriesDescription ?? "").firstMatch(of: regex) == nil {
            return "series description '\(series.seriesDescription ?? "")' does not match '\(pattern)' (filters.series_description)"
        }
        if let range = filters.sliceThickness, range.count == 2 {
            // SliceThickness (0018,0050) is what people select reconstructions by (thin vs thick); a series
            // without it is judged by its slice spacing, and the reason says which one was used.
            let (value, name) = series.images.lazy.compactMap(\.sliceThickness).first.map { ($0, "slice thickness") }
                ?? (series.geometry.spacing.z, "slice spacing (no SliceThickness)")
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
        if configuration.privacy.keepIdentifiers {
            let clear = String(series.key.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
            return String(clear.prefix(128))
        }
        return String(hash(series.key).prefix(24))
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

    /// Runs the chain and casts, on Dispatch threads (never blocking the cooperative pool).
    ///
    /// The decoded volume is consumed: when the caller holds no other copy, the chain works on its voxels in place
    /// (a clip to the window then costs no memory), which keeps a series' peak at about decoded + resampled.
    public func transform(_ volume: consuming Volume<Float32>, of series: SeriesDescriptor) async throws(TransformError) -> ProcessedVolume {
        let metadata = metadata(for: series, decoded: volume)
        let transform = self.transform
        let configuration = self.configuration
        let handoff = Handoff(consume volume)
        let image = try await ParallelLoop.offload { () throws(TransformError) -> StoredImage in
            var working = handoff.take()
            try transform.apply(inPlace: &working)
            return StoredImage.cast(working, to: configuration.output.dtype, scale: configuration.output.scale)
        }
        return ProcessedVolume(key: key(for: series), image: image, metadata: metadata,
                               seriesDescription: series.seriesDescription)
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
        return ProcessedVolume(key: key(for: series), image: image,
                               metadata: metadata(for: series, decodedSize: planes.size, spacing: planes.geometry.spacing),
                               seriesDescription: series.seriesDescription)
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
        var volume = if plan.streams, let streamed = try await transformPlanes(of: plan.series) {
            streamed
        } else {
            try await transform(try await decode(plan.series), of: plan.series)
        }
        volume.key = plan.key
        try await attachLabels(to: &volume, plan: plan)
        return volume
    }

    func metadata(for series: SeriesDescriptor, decoded: Volume<Float32>) -> VolumeMetadata {
        metadata(for: series, decodedSize: decoded.size, spacing: decoded.geometry.spacing)
    }

    func metadata(for series: SeriesDescriptor, decodedSize: GridSize, spacing: Vector3) -> VolumeMetadata {
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
        let study = series.studyInstanceUID ?? ""
        return VolumeMetadata(
            originalSize: decodedSize, originalSpacing: spacing, transform: transformJSON,
            transformKey: transformKey, configurationKey: configurationKey, window: window,
            normalization: normalization,
            valueScale: configuration.output.dtype == .int16 || configuration.output.dtype == .uint8 ? configuration.output.scale : 1,
            sourceSeries: configuration.privacy.keepIdentifiers ? series.key : hash(series.key),
            sourceStudy: study.isEmpty ? "" : (configuration.privacy.keepIdentifiers ? study : hash(study)),
            modality: series.modality ?? "", warnings: series.warnings.map(\.message))
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
