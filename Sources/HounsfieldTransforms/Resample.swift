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
        case nearest, linear, bspline
    }

    public enum Alignment: String, Hashable, Sendable, Codable, CaseIterable {
        /// Keep the origin (the first voxel's centre), as SimpleITK scripts usually do.
        case origin
        /// Keep the centre of the volume.
        case center
    }

    /// Exactly one of `spacing`, `size` or `reference`.
    public struct Target: Hashable, Sendable, Codable {
        public var spacing: [Double]?
        public var size: [Int]?
        public var reference: ReferenceGrid?

        public static func spacing(_ x: Double, _ y: Double, _ z: Double) -> Target { Target(spacing: [x, y, z]) }
        public static func size(_ x: Int, _ y: Int, _ z: Int) -> Target { Target(size: [x, y, z]) }
        public static func reference(_ geometry: Geometry, size: GridSize) -> Target {
            Target(reference: ReferenceGrid(
                origin: geometry.origin.array, spacing: geometry.spacing.array,
                direction: geometry.direction.rowMajor, size: size.array))
        }
    }

    /// A complete output grid, as JSON can hold it (direction row-major, as SimpleITK's `GetDirection()`).
    public struct ReferenceGrid: Hashable, Sendable, Codable {
        public var origin: [Double]
        public var spacing: [Double]
        public var direction: [Double]
        public var size: [Int]
    }

    public var target: Target
    public var interpolation: Interpolation
    public var alignment: Alignment
    public var outsideValue: Double
    /// The largest output this transform may allocate, in bytes (default 16 GiB): a typo in a spacing fails fast.
    public var maximumOutputBytes: Int

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

    public var specification: TransformSpecification { .resample(self) }

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

    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try resample(volume, interpolation: interpolation, fill: Float32(outsideValue))
    }

    /// Labels: nearest neighbour, and 0 (background) outside.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try resample(label, interpolation: .nearest, fill: 0)
    }

    private func resample(
        _ volume: Volume<Float32>, interpolation: Interpolation, fill: Float32
    ) throws(TransformError) -> Volume<Float32> {
        try Check.nonEmpty(volume)
        let (size, geometry) = try outputGrid(size: volume.size, geometry: volume.geometry)
        if Self.sameDirection(volume.geometry.direction, geometry.direction) {
            let kernel: AxisAlignedResampler.Kernel = switch interpolation {
            case .nearest: .nearest
            case .linear: .linear
            case .bspline: .cubic
            }
            return AxisAlignedResampler(input: volume, size: size, geometry: geometry, kernel: kernel, fill: fill).run()
        }
        guard interpolation != .bspline else {
            throw .invalidParameter(
                name: "interpolation", value: "bspline onto a grid with another direction",
                expected: "linear or nearest there (B-spline is implemented for grids that keep the direction)")
        }
        return GeneralResampler.run(volume, size: size, geometry: geometry, nearest: interpolation == .nearest, fill: fill)
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
