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
    func attachLabels(to volume: inout ProcessedVolume, plan: SeriesPlan) async throws(LabelFailure) {
        guard !plan.labels.isEmpty else { return }
        var segments: [LabelSegment] = []
        var warnings: [String] = []
        var sources: [String] = []
        var decodedObjects: [DecodedLabels] = []
        for source in plan.labels {
            let name = configuration.privacy.keepIdentifiers ? source.file : hash(source.file)
            do {
                let decoded = try source.segments(on: plan.series)
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
        let series = plan.series
        let imageSize = volume.size, imageGeometry = volume.geometry
        let outcome = await ParallelLoop.offload { () -> Result<LabelMap, any Error> in
            Result {
                let map = try single ?? LabelMap(segments: found)
                // The image was decoded onto the planned grid (a tilt or uneven spacing corrected); the masks are on
                // the series' slices, so they go there first, by nearest neighbour.
                let planned = try series.plannedGrid(for: loadOptions)
                func follow(_ label: Volume<Float32>) throws -> Volume<Float32> {
                    var label = label
                    if planned.size != label.size || planned.geometry != label.geometry {
                        label = try Resample(to: .reference(planned.geometry, size: planned.size),
                                             interpolation: .nearest).applyToLabel(label)
                    }
                    label = try transform.applyToLabel(label)
                    guard label.size == imageSize, label.geometry == imageGeometry else {
                        throw LabelGridMismatch(label: label.size, image: imageSize)
                    }
                    return label
                }
                if let values = map.values {
                    let moved = try follow(values.converted(to: Float32.self))
                    return LabelMap(classIndex: moved.converted(to: UInt16.self), classes: map.classes)
                }
                let moved = try map.channels.map { try follow($0.converted(to: Float32.self)).converted(to: UInt8.self) }
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
