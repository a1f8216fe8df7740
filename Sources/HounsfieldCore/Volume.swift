/// A scalar type a volume can hold.
public protocol VoxelScalar: Sendable, Hashable, Numeric {
    /// The value nearest to `hounsfield`, saturated to the type's range (what "cast" means for HU): integers round
    /// half away from zero and clamp to their range (NaN becomes 0); Float16 rounds to nearest even and clamps to
    /// ±65504 instead of overflowing to infinity; Float32 rounds to nearest even.
    init(hounsfield: Double)
    /// The value as a Double, for statistics and interpolation.
    var doubleValue: Double { get }
}

extension Float32: VoxelScalar {
    @inlinable public init(hounsfield: Double) { self = Float32(hounsfield) }
    @inlinable public var doubleValue: Double { Double(self) }
}

extension UInt8: VoxelScalar {
    /// Rounds half away from zero and saturates at 0 and 255.
    @inlinable public init(hounsfield: Double) {
        let rounded = hounsfield.rounded(.toNearestOrAwayFromZero)
        self = rounded.isNaN ? 0 : UInt8(Swift.max(0, Swift.min(255, rounded)))
    }
    @inlinable public var doubleValue: Double { Double(self) }
}

extension UInt16: VoxelScalar {
    /// Rounds half away from zero and saturates at 0 and 65535 (label maps with more than 255 classes).
    @inlinable public init(hounsfield: Double) {
        let rounded = hounsfield.rounded(.toNearestOrAwayFromZero)
        self = rounded.isNaN ? 0 : UInt16(Swift.max(0, Swift.min(65535, rounded)))
    }
    @inlinable public var doubleValue: Double { Double(self) }
}

#if !(os(macOS) && arch(x86_64))
extension Float16: VoxelScalar {
    /// Rounds to nearest even and saturates at ±65504 (Float16's largest finite value) rather than overflowing.
    @inlinable public init(hounsfield: Double) {
        self = hounsfield.isNaN ? .nan : Float16(Swift.max(-65504, Swift.min(65504, hounsfield)))
    }
    @inlinable public var doubleValue: Double { Double(self) }
}
#endif

extension Int16: VoxelScalar {
    /// Rounds half away from zero and saturates at −32768 and 32767.
    @inlinable public init(hounsfield: Double) {
        let rounded = hounsfield.rounded(.toNearestOrAwayFromZero)
        self = rounded.isNaN ? 0 : Int16(Swift.max(-32768, Swift.min(32767, rounded)))
    }
    @inlinable public var doubleValue: Double { Double(self) }
}

/// A 3-D image: voxels in C order `[z][y][x]` with the geometry that places them in patient space.
///
/// Copy-on-write through its array storage, and `Sendable`, so volumes can cross tasks and channels freely.
public struct Volume<Scalar: VoxelScalar>: Sendable, Hashable {
    /// Voxels in C order: index `x + size.x * (y + size.y * z)`.
    public var voxels: [Scalar]
    /// The number of voxels along each axis.
    public let size: GridSize
    /// Where the voxels sit in patient space.
    public var geometry: Geometry

    /// Wraps existing voxels; `voxels.count` must equal `size.voxelCount`.
    public init(voxels: [Scalar], size: GridSize, geometry: Geometry) {
        precondition(voxels.count == size.voxelCount, "\(voxels.count) voxels do not fill a \(size) grid")
        self.voxels = voxels
        self.size = size
        self.geometry = geometry
    }

    /// A volume filled with one value.
    public init(repeating value: Scalar, size: GridSize, geometry: Geometry) {
        self.init(voxels: Array(repeating: value, count: size.voxelCount), size: size, geometry: geometry)
    }

    /// A volume whose voxels are written by `initialize`, without clearing the memory first (for decoders and
    /// transforms that write every voxel). `initialize` must write all `size.voxelCount` elements.
    public init(
        size: GridSize, geometry: Geometry,
        initializingWith initialize: (UnsafeMutableBufferPointer<Scalar>) throws -> Void
    ) rethrows {
        let voxels = try [Scalar](unsafeUninitializedCapacity: size.voxelCount) { buffer, count in
            HugePages.advise(UnsafeMutableRawBufferPointer(buffer))
            try initialize(buffer)
            count = size.voxelCount
        }
        self.init(voxels: voxels, size: size, geometry: geometry)
    }

    /// The linear index of voxel (x, y, z).
    @inlinable public func offset(x: Int, y: Int, z: Int) -> Int { x + size.x * (y + size.y * z) }

    /// The voxel at column `x`, row `y`, slice `z`; indices are not checked beyond the array's own bounds check.
    @inlinable public subscript(x: Int, y: Int, z: Int) -> Scalar {
        get { voxels[offset(x: x, y: y, z: z)] }
        set { voxels[offset(x: x, y: y, z: z)] = newValue }
    }
}
