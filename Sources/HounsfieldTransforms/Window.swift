import HounsfieldCore

/// Clips intensities to a window and optionally rescales them: MONAI's `ScaleIntensityRange` with clipping.
///
/// With `minimum = level − width / 2` and `maximum = level + width / 2`:
/// - `hounsfield`: `clamp(x, minimum, maximum)`;
/// - `unit`: `(clamp(x) − minimum) / (maximum − minimum)`, in [0, 1];
/// - `symmetric`: `2 · unit − 1`, in [−1, 1].
/// This is the linear window of training pipelines, not DICOM's display LUT (which offsets by 0.5 and 1).
public struct Window: VolumeTransform, Hashable, Codable {
    public enum Output: String, Hashable, Sendable, Codable, CaseIterable {
        case hounsfield, unit, symmetric
    }

    /// Standard CT windows as (level, width) in HU, from common radiology practice (Radiopaedia, "Windowing (CT)").
    public enum Preset: String, Hashable, Sendable, Codable, CaseIterable {
        case brain, subdural, stroke, lung, mediastinum, abdomen, liver, bone, softTissue = "soft-tissue"

        public var levelAndWidth: (level: Double, width: Double) {
            switch self {
            case .brain: (40, 80)
            case .subdural: (75, 215)
            case .stroke: (40, 40)
            case .lung: (-600, 1500)
            case .mediastinum: (50, 350)
            case .abdomen: (40, 400)
            case .liver: (60, 160)
            case .bone: (400, 1800)
            case .softTissue: (50, 400)
            }
        }
    }

    public var minimum: Double
    public var maximum: Double
    public var output: Output

    public init(minimum: Double, maximum: Double, output: Output = .hounsfield) {
        self.minimum = minimum
        self.maximum = maximum
        self.output = output
    }

    public init(level: Double, width: Double, output: Output = .hounsfield) {
        self.init(minimum: level - width / 2, maximum: level + width / 2, output: output)
    }

    public init(_ preset: Preset, output: Output = .hounsfield) {
        let (level, width) = preset.levelAndWidth
        self.init(level: level, width: width, output: output)
    }

    public var specification: TransformSpecification { .window(self) }

    public func validate() throws(TransformError) {
        try Check.finite(minimum, "window minimum")
        try Check.finite(maximum, "window maximum")
        guard maximum > minimum else {
            throw .invalidParameter(
                name: "window width", value: "\(maximum - minimum)", expected: "positive (maximum above minimum)")
        }
    }

    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        let (low, high, scale, offset) = try parameters(for: volume)
        return PointwiseMap.apply(volume) { Self.map($0, low, high, scale, offset) }
    }

    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        let (low, high, scale, offset) = try parameters(for: volume)
        PointwiseMap.apply(inPlace: &volume) { Self.map($0, low, high, scale, offset) }
    }

    /// Clip to [low, high], then `× scale + offset`, in Double (as numpy's float64 reference does).
    @inline(__always)
    private static func map(_ value: Float32, _ low: Double, _ high: Double, _ scale: Double, _ offset: Double) -> Float32 {
        Float32(min(max(Double(value), low), high) * scale + offset)
    }

    private func parameters(for volume: Volume<Float32>) throws(TransformError) -> (Double, Double, Double, Double) {
        try validate()
        try Check.nonEmpty(volume)
        let low = minimum, high = maximum, range = maximum - minimum
        let (scale, offset): (Double, Double) = switch output {
        case .hounsfield: (1, 0)
        case .unit: (1 / range, -low / range)
        case .symmetric: (2 / range, -2 * low / range - 1)
        }
        return (low, high, scale, offset)
    }
}
