import HounsfieldCore

/// Clips intensities to a window and optionally rescales them: MONAI's `ScaleIntensityRange` with clipping.
///
/// With `minimum = level − width / 2` and `maximum = level + width / 2`:
/// - `hounsfield`: `clamp(x, minimum, maximum)`;
/// - `unit`: `(clamp(x) − minimum) / (maximum − minimum)`, in [0, 1];
/// - `symmetric`: `2 · unit − 1`, in [−1, 1].
/// This is the linear window of training pipelines, not DICOM's display LUT (which offsets by 0.5 and 1).
public struct Window: VolumeTransform, Hashable, Codable {
    /// What the clipped value is mapped onto.
    public enum Output: String, Hashable, Sendable, Codable, CaseIterable {
        /// `hounsfield`: clipped only, still HU; `unit`: the window onto [0, 1]; `symmetric`: the window onto [−1, 1].
        case hounsfield, unit, symmetric
    }

    /// Standard CT windows as (level, width) in HU, from common radiology practice (Radiopaedia, "Windowing (CT)").
    public enum Preset: String, Hashable, Sendable, Codable, CaseIterable {
        /// Level/width in HU: brain 40/80, subdural 75/215, stroke 40/40, lung −600/1500, mediastinum 50/350, abdomen
        /// 40/400, liver 60/160, bone 400/1800, soft tissue 50/400.
        case brain, subdural, stroke, lung, mediastinum, abdomen, liver, bone, softTissue = "soft-tissue"

        /// The window's centre and width, in HU.
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

    /// The lower end of the window, in HU: values below become it.
    public var minimum: Double
    /// The upper end of the window, in HU: values above become it.
    public var maximum: Double
    /// What the window is mapped onto (default: HU, clipped only).
    public var output: Output

    /// The window [`minimum`, `maximum`] in HU.
    public init(minimum: Double, maximum: Double, output: Output = .hounsfield) {
        self.minimum = minimum
        self.maximum = maximum
        self.output = output
    }

    /// The window centred on `level` with `width`, in HU, as radiologists state it.
    public init(level: Double, width: Double, output: Output = .hounsfield) {
        self.init(minimum: level - width / 2, maximum: level + width / 2, output: output)
    }

    /// A standard CT window: `Window(.lung, output: .unit)`.
    public init(_ preset: Preset, output: Output = .hounsfield) {
        let (level, width) = preset.levelAndWidth
        self.init(level: level, width: width, output: output)
    }

    /// `{"type": "window", "minimum": …, "maximum": …, "output": "hounsfield" | "unit" | "symmetric"}`.
    public var specification: TransformSpecification { .window(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` when an end is not finite or `maximum` is not
    /// above `minimum`.
    public func validate() throws(TransformError) {
        try Check.finite(minimum, "window minimum")
        try Check.finite(maximum, "window maximum")
        guard maximum > minimum else {
            throw .invalidParameter(
                name: "window width", value: "\(maximum - minimum)", expected: "positive (maximum above minimum)")
        }
    }

    /// The windowed volume, same geometry. Throws when the window is invalid or the volume is empty.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try mapping(for: volume).applied(to: volume)
    }

    /// Windows `volume` over its own voxels (no new memory); throws as ``apply(to:)`` does.
    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        try mapping(for: volume).apply(inPlace: &volume)
    }

    /// The function applied to every voxel, for steps that fuse a window into their own loop (`WindowedResample`):
    /// one definition, so fused and unfused chains agree bit for bit.
    func mapping(for volume: Volume<Float32>) throws(TransformError) -> WindowMapping {
        try Check.nonEmpty(volume)
        return try mapping()
    }

    /// The same function, for a volume that is not in memory (its grid checked by the caller).
    func mapping() throws(TransformError) -> WindowMapping {
        try validate()
        let range = maximum - minimum
        let (scale, offset): (Double, Double) = switch output {
        case .hounsfield: (1, 0)
        case .unit: (1 / range, -minimum / range)
        case .symmetric: (2 / range, -2 * minimum / range - 1)
        }
        return WindowMapping(low: minimum, high: maximum, scale: scale, offset: offset)
    }
}

/// A window as a function of one voxel: clip to [low, high], then `× scale + offset`, in Double (as numpy's float64
/// reference does), rounded once to Float32.
struct WindowMapping: Sendable {
    let low: Double
    let high: Double
    let scale: Double
    let offset: Double
    /// The ends in Float32 when the mapping only clips and Float32 holds both ends exactly. Then clipping in
    /// Float32 gives the same bits as in Double (a clip returns the value or an end, and the value converts to
    /// Double and back exactly), at twice the vector width and with no conversions. `WindowMappingTests` checks it.
    let float32Clip: (low: Float32, high: Float32)?

    init(low: Double, high: Double, scale: Double, offset: Double) {
        self.low = low
        self.high = high
        self.scale = scale
        self.offset = offset
        let exact = Double(Float32(low)) == low && Double(Float32(high)) == high
        float32Clip = scale == 1 && offset == 0 && exact ? (Float32(low), Float32(high)) : nil
    }

    @inline(__always)
    func callAsFunction(_ value: Float32) -> Float32 {
        Float32(min(max(Double(value), low), high) * scale + offset)
    }

    /// The clip of the fast path. `+ 0` as in the definition: it turns −0 into +0 and quiets a signalling NaN.
    @inline(__always)
    private static func clip(_ value: Float32, _ low: Float32, _ high: Float32) -> Float32 {
        min(max(value, low), high) + 0
    }

    /// Maps `count` values from `source` into `target`, which must not overlap it (a row into scratch memory).
    func apply(_ source: UnsafePointer<Float32>, count: Int, into target: UnsafeMutablePointer<Float32>) {
        if let (low, high) = float32Clip {
            for i in 0..<count { target[i] = Self.clip(source[i], low, high) }
        } else {
            for i in 0..<count { target[i] = self(source[i]) }
        }
    }

    /// Maps `count` values where they are. One pointer, not the two of `apply(_:count:into:)` aimed at the same
    /// memory: then the compiler would have to assume they may overlap (`PointwiseMap` says what that costs).
    func apply(inPlace values: UnsafeMutablePointer<Float32>, count: Int) {
        if let (low, high) = float32Clip {
            for i in 0..<count { values[i] = Self.clip(values[i], low, high) }
        } else {
            for i in 0..<count { values[i] = self(values[i]) }
        }
    }

    /// Maps every voxel of `volume`, on all cores, into a new volume.
    func applied(to volume: Volume<Float32>) -> Volume<Float32> {
        guard let (low, high) = float32Clip else { return PointwiseMap.apply(volume) { self($0) } }
        return PointwiseMap.apply(volume) { Self.clip($0, low, high) }
    }

    /// Maps every voxel of `volume` over its own voxels, on all cores.
    func apply(inPlace volume: inout Volume<Float32>) {
        guard let (low, high) = float32Clip else { return PointwiseMap.apply(inPlace: &volume) { self($0) } }
        PointwiseMap.apply(inPlace: &volume) { Self.clip($0, low, high) }
    }
}

extension Window {
    /// Decodes a window from a configuration; `output` may be left out (`hounsfield`, as in the initializers).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(minimum: try container.decode(Double.self, forKey: .minimum),
                  maximum: try container.decode(Double.self, forKey: .maximum),
                  output: try container.decodeIfPresent(Output.self, forKey: .output) ?? .hounsfield)
    }
}
