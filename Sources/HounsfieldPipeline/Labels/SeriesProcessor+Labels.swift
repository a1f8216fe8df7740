import HounsfieldCore
import HounsfieldDICOM
import HounsfieldTransforms

extension SeriesProcessor {
    /// Decodes the plan's label objects onto its series, follows the image through the chain's spatial steps, and
    /// attaches the result to `volume`. By default never fails the image: a label that cannot be placed or
    /// transformed is left out with a warning that names its file and the reason, and the image is written as usual.
    /// With `labels.on_failure` `skip_volume` such a label throws ``LabelFailure`` instead, failing the series.
    ///
    /// Classes keep the values their object gives (segment numbers, ROI positions, label values); when several
    /// objects label one series, the second's values follow the first's largest, so no two classes share a value.
    ///
    /// `decodedImage` is the plan's image as decoded, before the chain, for a chain whose labels need the image
    /// (``labelsNeedImage(_:)``); without it such an image is decoded again here.
    func attachLabels(
        to volume: inout ProcessedVolume, plan: SeriesPlan, decodedImage: Volume<Float32>? = nil
    ) async throws(LabelFailure) {
        guard !plan.labels.isEmpty else { return }
        var segments: [LabelSegment] = []
        var warnings: [String] = []
        var sources: [String] = []
        var decodedObjects: [DecodedLabels] = []
        for source in plan.labels {
            let name = configuration.privacy.keepIdentifiers ? source.file : hash(source.file)
            do {
                let decoded = switch plan.image {
                case .series(let series): try source.segments(on: series)
                case .nifti(let input): try source.segments(on: input.size, geometry: input.geometry)
                }
                warnings += decoded.warnings.map { "\(source.fileName): \($0)" }
                sources.append(name)
                decodedObjects.append(decoded)
            } catch {
                warnings.append("\(source.fileName): label left out: \(error)")
                if configuration.labels.onFailure == .skipVolume { throw LabelFailure(file: source.file, reason: "\(error)") }
            }
        }
        // A single label map is used as it is; anything else is combined class by class.
        let single = decodedObjects.count == 1 ? decodedObjects[0].map : nil
        if single == nil {
            for decoded in decodedObjects {
                let offset = segments.map(\.labelClass.value).max() ?? 0
                segments += decoded.allSegments.map { segment in
                    var segment = segment
                    segment.labelClass.value += offset
                    return segment
                }
            }
        }
        guard !segments.isEmpty || single != nil else {
            volume.labelWarnings = warnings
            return
        }
        let transform = self.transform
        let found = segments
        let loadOptions = self.loadOptions
        let image = plan.image
        let imageSize = volume.size, imageGeometry = volume.geometry
        // A step that finds its box in the image (crop to foreground) moves the labels with the image itself: the
        // decoded image is sent through the chain again beside them (its result is the stored image's). The caller
        // hands over the volume it decoded; only a streamed image (a caller that did not plan for labels) is decoded
        // a second time.
        var decoded = transform.labelsNeedImage ? decodedImage : nil
        var decodeFailure: (any Error)?
        if transform.labelsNeedImage, decoded == nil {
            do { decoded = try await decode(plan) } catch { decodeFailure = error }
        }
        let imageForLabels = decoded, imageFailure = decodeFailure
        let outcome = await ParallelLoop.offload { () -> Result<LabelMap, any Error> in
            Result {
                if let imageFailure { throw imageFailure }
                let map = try single ?? LabelMap(segments: found)
                // The image was decoded onto the planned grid (a tilt or uneven spacing corrected); the masks are on
                // the series' slices, so they go there first, by nearest neighbour.
                // A NIfTI image is decoded on its own grid, where its label maps were placed.
                let planned: (size: GridSize, geometry: Geometry) = switch image {
                case .series(let series): try series.plannedGrid(for: loadOptions).grid
                case .nifti(let input): (input.size, input.geometry)
                }
                func toPlanned(_ label: Volume<Float32>) throws -> Volume<Float32> {
                    guard planned.size != label.size || planned.geometry != label.geometry else { return label }
                    return try Resample(to: .reference(planned.geometry, size: planned.size),
                                        interpolation: .nearest).applyToLabel(label)
                }
                // Labels in groups: with the image beside them, a group of at most 8 (channels of a SEG can number
                // a hundred) bounds the memory to the image and eight labels; alone, one at a time.
                func follow(_ labels: [Volume<Float32>]) throws -> [Volume<Float32>] {
                    let planned = try labels.map(toPlanned)
                    let moved: [Volume<Float32>]
                    if let imageForLabels {
                        moved = try transform.apply(to: imageForLabels, labels: planned).labels
                    } else {
                        moved = try planned.map { try transform.applyToLabel($0) }
                    }
                    for label in moved where label.size != imageSize || label.geometry != imageGeometry {
                        throw LabelGridMismatch(label: label.size, image: imageSize)
                    }
                    return moved
                }
                if let values = map.values {
                    let moved = try follow([values.converted(to: Float32.self)])[0]
                    return LabelMap(classIndex: moved.converted(to: UInt16.self), classes: map.classes)
                }
                let group = imageForLabels == nil ? 1 : 8
                var moved: [Volume<UInt8>] = []
                for start in stride(from: 0, to: map.channels.count, by: group) {
                    let channels = map.channels[start..<min(start + group, map.channels.count)]
                    moved += try follow(channels.map { $0.converted(to: Float32.self) }).map { $0.converted(to: UInt8.self) }
                }
                return LabelMap(channels: moved, classes: map.classes)
            }
        }
        switch outcome {
        case .success(let map):
            volume.labels = map
            volume.labelSources = sources
        case .failure(let error):
            warnings.append("labels left out: \(error)")
            if configuration.labels.onFailure == .skipVolume {
                throw LabelFailure(file: plan.labels.map(\.file).joined(separator: ", "), reason: "\(error)")
            }
        }
        volume.labelWarnings = warnings
    }
}

extension LabelSource {
    /// The object's file name without its folders, for warnings that stay readable.
    var fileName: String { file.split(separator: "/").last.map(String.init) ?? file }
}

/// The chain moved the label onto another grid than the image's: a step whose label form differs from its image
/// form. Reported, never written.
struct LabelGridMismatch: Error, CustomStringConvertible {
    let label: GridSize
    let image: GridSize
    var description: String { "the transformed label's grid \(label) differs from the image's \(image)" }
}

/// A label object that could not be placed, when `labels.on_failure` is `skip_volume`: the series fails with it.
public struct LabelFailure: Error, Sendable, CustomStringConvertible {
    /// The label object's file (or files).
    public var file: String
    /// Why it could not be placed.
    public var reason: String

    public var description: String {
        "\(file): \(reason); the volume is skipped (labels.on_failure skip_volume): fix or remove the label object, or set labels.on_failure to write_image to keep the image alone"
    }
}
