import HounsfieldCore

/// Resamples a volume onto a new grid: a target spacing, a target size, or a reference grid.
///
/// The grid follows what SimpleITK users write: with a target spacing, origin and direction are kept and
/// `size_i = round(size_i × spacing_i / target_i)` (round half to even, like Python's `round`). With a target size,
/// the extent is kept. `alignment: .center` keeps the centre of the volume fixed instead of the first voxel.
/// Sampling matches ITK's `ResampleImageFilter`: points within half a voxel of the input's edge take the nearest
/// edge value, points farther out take `outsideValue` (air, −1024 HU, by default).
public struct Resample: VolumeTransform, Hashable, Codable {
    /// `bspline` is ITK's cubic B-spline (`sitkBSpline`): prefiltered coefficients, mirror boundaries. It
    /// overshoots at sharp edges (air/bone), as any cubic does; clip afterwards if the range matters.
    public enum Interpolation: String, Hashable, Sendable, Codable, CaseIterable {
        /// `nearest`: the nearest voxel (for labels); `linear`: trilinear, the default; `bspline`: cubic B-spline, only
        /// onto grids with the input's direction.
        case nearest, linear, bspline
    }

    /// Which point of the volume a spacing or size target keeps in place.
    public enum Alignment: String, Hashable, Sendable, Codable, CaseIterable {
        /// Keep the origin (the first voxel's centre), as SimpleITK scripts usually do.
        case origin
        /// Keep the centre of the volume.
        case center
    }

    /// Exactly one of `spacing`, `size` or `reference`.
    public struct Target: Hashable, Sendable, Codable {
        /// The output spacing `[x, y, z]` in mm; the size follows from the extent.
        public var spacing: [Double]?
        /// The output size `[x, y, z]` in voxels; the spacing follows from the extent.
        public var size: [Int]?
        /// The whole output grid, such as the grid a volume had before it was cropped or resampled.
        public var reference: ReferenceGrid?

        /// A target spacing in mm: `.spacing(1, 1, 1)`.
        public static func spacing(_ x: Double, _ y: Double, _ z: Double) -> Target { Target(spacing: [x, y, z]) }
        /// A target size in voxels: `.size(128, 128, 64)`.
        public static func size(_ x: Int, _ y: Int, _ z: Int) -> Target { Target(size: [x, y, z]) }
        /// The grid of another volume, to bring a prediction back onto the grid of the volume it was made from.
        public static func reference(_ geometry: Geometry, size: GridSize) -> Target {
            Target(reference: ReferenceGrid(
                origin: geometry.origin.array, spacing: geometry.spacing.array,
                direction: geometry.direction.rowMajor, size: size.array))
        }
    }

    /// A complete output grid, as JSON can hold it (direction row-major, as SimpleITK's `GetDirection()`).
    public struct ReferenceGrid: Hashable, Sendable, Codable {
        /// The centre of the first voxel, LPS mm.
        public var origin: [Double]
        /// Voxel spacing `[x, y, z]`, mm.
        public var spacing: [Double]
        /// The nine direction values, row-major (`Direction.rowMajor`).
        public var direction: [Double]
        /// Voxels `[x, y, z]`.
        public var size: [Int]
    }

    /// The grid to resample onto.
    public var target: Target
    /// How values between voxels are computed (labels always use nearest).
    public var interpolation: Interpolation
    /// What a spacing or size target keeps fixed: the first voxel (default) or the centre.
    public var alignment: Alignment
    /// The value of output points more than half a voxel outside the input (HU; −1024, air, by default). Labels get 0.
    public var outsideValue: Double
    /// The largest output this transform may allocate, in bytes (default 16 GiB): a typo in a spacing fails fast.
    public var maximumOutputBytes: Int

    /// Resamples onto `target`; the defaults are linear interpolation, origin kept, air outside, and a 16 GiB limit.
    public init(
        to target: Target, interpolation: Interpolation = .linear, alignment: Alignment = .origin,
        outsideValue: Double = -1024, maximumOutputBytes: Int = 16 << 30
    ) {
        self.target = target
        self.interpolation = interpolation
        self.alignment = alignment
        self.outsideValue = outsideValue
        self.maximumOutputBytes = maximumOutputBytes
    }

    /// `{"type": "resample", "target": {"spacing": [x, y, z]}, "interpolation": …, "alignment": …, "outsideValue": …,
    /// "maximumOutputBytes": …}`.
    public var specification: TransformSpecification { .resample(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` unless exactly one target is given and it is
    /// well formed (three positive spacings or sizes, a complete reference), ``TransformError/invalidGeometry(_:)`` for
    /// a reference grid that is not a valid geometry, and `invalidParameter` for a non-finite `outsideValue`.
    public func validate() throws(TransformError) {
        let given = [target.spacing != nil, target.size != nil, target.reference != nil].filter { $0 }.count
        guard given == 1 else {
            throw .invalidParameter(name: "resample target", value: "\(given) of spacing/size/reference",
                                    expected: "exactly one of spacing, size or reference")
        }
        if let spacing = target.spacing {
            guard spacing.count == 3 else {
                throw .invalidParameter(name: "target spacing", value: "\(spacing)", expected: "three numbers x, y, z")
            }
            for value in spacing { try Check.positive(value, "target spacing") }
        }
        if let size = target.size {
            guard size.count == 3, size.allSatisfy({ $0 > 0 }) else {
                throw .invalidParameter(name: "target size", value: "\(size)", expected: "three positive integers")
            }
        }
        if let reference = target.reference {
            guard reference.origin.count == 3, reference.spacing.count == 3, reference.direction.count == 9,
                reference.size.count == 3, reference.size.allSatisfy({ $0 > 0 })
            else {
                throw .invalidParameter(name: "reference grid", value: "incomplete",
                                        expected: "origin[3], spacing[3], direction[9], size[3]")
            }
            do {
                try referenceGeometry(reference).validate()
            } catch {
                throw .invalidGeometry("reference grid: \(error)")
            }
        }
        try Check.finite(outsideValue, "outsideValue")
    }

    /// The output grid for an input grid, without touching any voxel (for plans and dry runs).
    public func outputGrid(size: GridSize, geometry: Geometry) throws(TransformError) -> (GridSize, Geometry) {
        try validate()
        do { try geometry.validate() } catch { throw .invalidGeometry(error.description) }
        let input = Vector3(Double(size.x), Double(size.y), Double(size.z))
        var grid: (GridSize, Geometry)
        if let reference = target.reference {
            let size = GridSize(x: reference.size[0], y: reference.size[1], z: reference.size[2])
            grid = (size, referenceGeometry(reference))
        } else {
            let spacing: Vector3
            let counts: Vector3
            if let target = target.spacing {
                spacing = Vector3(target[0], target[1], target[2])
                counts = (input * geometry.spacing / spacing).rounded(.toNearestOrEven)
            } else {
                let target = target.size!
                counts = Vector3(Double(target[0]), Double(target[1]), Double(target[2]))
                spacing = geometry.spacing * input / counts
            }
            let outputSize = GridSize(x: max(1, Int(counts.x)), y: max(1, Int(counts.y)), z: max(1, Int(counts.z)))
            var origin = geometry.origin
            if alignment == .center {
                let outputCount = Vector3(Double(outputSize.x), Double(outputSize.y), Double(outputSize.z))
                let center = geometry.point(atIndex: (input - 1) / 2)
                origin = center - geometry.direction.apply(spacing * (outputCount - 1) / 2)
            }
            grid = (outputSize, Geometry(origin: origin, spacing: spacing, direction: geometry.direction))
        }
        let bytes = grid.0.voxelCount * MemoryLayout<Float32>.size
        guard bytes <= maximumOutputBytes else {
            throw .outputTooLarge(grid.0, bytes: bytes, limit: maximumOutputBytes)
        }
        return grid
    }

    /// The volume on the target grid. Throws when the parameters or the input geometry are invalid, the volume is
    /// empty, the output would exceed ``maximumOutputBytes`` (``TransformError/outputTooLarge(_:bytes:limit:)``), or
    /// B-spline is asked for onto a grid with another direction.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try resample(volume, interpolation: interpolation, fill: Float32(outsideValue))
    }

    /// Labels: nearest neighbour, and 0 (background) outside.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try resample(label, interpolation: .nearest, fill: 0)
    }

    /// Resampling with a window before it and windows after it, as one step where the resampler allows (see
    /// `WindowedResample`): the same voxels as the three steps one after the other, bit for bit.
    func apply(
        to volume: Volume<Float32>, windowBefore: Window?, windowsAfter: [Window]
    ) throws(TransformError) -> Volume<Float32> {
        try resample(volume, interpolation: interpolation, fill: Float32(outsideValue),
                     windowBefore: windowBefore, windowsAfter: windowsAfter)
    }

    /// Linear resampling onto a grid with the source's direction reads its input one plane at a time, so it
    /// takes the planes straight from `source`; nil for any other resampling.
    public func apply(toPlanesOf source: any PlaneSource) throws -> Volume<Float32>? {
        try apply(toPlanesOf: source, windowBefore: nil, windowsAfter: [])
    }

    /// Linear resampling reads planes (onto a grid with the input's direction).
    public var readsPlanes: Bool { interpolation == .linear }

    /// `apply(to:windowBefore:windowsAfter:)` on planes read from `source`, when this resampling reads planes
    /// (linear, same direction); nil otherwise. Same voxels as on the volume the source makes.
    func apply(
        toPlanesOf source: any PlaneSource, windowBefore: Window?, windowsAfter: [Window]
    ) throws -> Volume<Float32>? {
        let (size, geometry, axisAligned) = try checkedOutputGrid(size: source.size, geometry: source.geometry)
        guard interpolation == .linear, axisAligned else { return nil }
        let outputMappings = try windowsAfter.map { window throws(TransformError) in try window.mapping() }
        return try AxisAlignedResampler.run(
            planesOf: source, size: size, geometry: geometry, fill: Float32(outsideValue),
            inputMapping: try windowBefore?.mapping(), outputMappings: outputMappings)
    }

    private func resample(
        _ volume: Volume<Float32>, interpolation: Interpolation, fill: Float32,
        windowBefore: Window? = nil, windowsAfter: [Window] = []
    ) throws(TransformError) -> Volume<Float32> {
        let (size, geometry, axisAligned) = try checkedOutputGrid(size: volume.size, geometry: volume.geometry)
        guard axisAligned || interpolation != .bspline else {
            throw .invalidParameter(
                name: "interpolation", value: "bspline onto a grid with another direction",
                expected: "linear or nearest there (B-spline is implemented for grids that keep the direction)")
        }
        // The window before is applied as samples are read only by the axis-aligned linear resampler; anywhere
        // else it is a pass of its own first (on a copy: the caller's volume stays as it was).
        var inputMapping = try windowBefore?.mapping(for: volume)
        var input = volume
        if let mapping = inputMapping, !(axisAligned && interpolation == .linear) {
            mapping.apply(inPlace: &input)
            inputMapping = nil
        }
        if axisAligned {
            let kernel: AxisAlignedResampler.Kernel = switch interpolation {
            case .nearest: .nearest
            case .linear: .linear
            case .bspline: .cubic
            }
            var resampler = AxisAlignedResampler(input: input, size: size, geometry: geometry, kernel: kernel, fill: fill)
            resampler.inputMapping = inputMapping
            for window in windowsAfter { resampler.outputMappings.append(try window.mapping(for: volume)) }
            return resampler.run()
        }
        var result = GeneralResampler.run(input, size: size, geometry: geometry, nearest: interpolation == .nearest, fill: fill)
        for window in windowsAfter { try window.apply(inPlace: &result) }
        return result
    }

    /// The output grid of a non-empty input, and whether it keeps the input's direction (the axis-aligned
    /// resampler's case).
    private func checkedOutputGrid(
        size: GridSize, geometry: Geometry
    ) throws(TransformError) -> (size: GridSize, geometry: Geometry, axisAligned: Bool) {
        try Check.nonEmpty(size)
        let (outputSize, outputGeometry) = try outputGrid(size: size, geometry: geometry)
        return (outputSize, outputGeometry, Self.sameDirection(geometry.direction, outputGeometry.direction))
    }

    private func referenceGeometry(_ reference: ReferenceGrid) -> Geometry {
        Geometry(
            origin: Vector3(reference.origin[0], reference.origin[1], reference.origin[2]),
            spacing: Vector3(reference.spacing[0], reference.spacing[1], reference.spacing[2]),
            direction: Direction(rowMajor: reference.direction))
    }

    static func sameDirection(_ a: Direction, _ b: Direction) -> Bool {
        zip(a.rowMajor, b.rowMajor).allSatisfy { abs($0 - $1) < 1e-9 }
    }
}

extension Resample {
    /// Decodes a resampling from a configuration: only `target` is required; the rest take the initializer's
    /// defaults (linear, origin kept, −1024 outside, 16 GiB limit), so a file says what differs from them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Resample(to: .spacing(1, 1, 1))
        self.init(
            to: try container.decode(Target.self, forKey: .target),
            interpolation: try container.decodeIfPresent(Interpolation.self, forKey: .interpolation) ?? defaults.interpolation,
            alignment: try container.decodeIfPresent(Alignment.self, forKey: .alignment) ?? defaults.alignment,
            outsideValue: try container.decodeIfPresent(Double.self, forKey: .outsideValue) ?? defaults.outsideValue,
            maximumOutputBytes: try container.decodeIfPresent(Int.self, forKey: .maximumOutputBytes)
                ?? defaults.maximumOutputBytes)
    }
}
