/// The number of voxels along x (columns), y (rows) and z (slices).
public struct GridSize: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Voxels along a row (the number of columns).
    public var x: Int
    /// Voxels along a column (the number of rows).
    public var y: Int
    /// The number of slices.
    public var z: Int

    /// Takes the counts as given (columns, rows, slices).
    public init(x: Int, y: Int, z: Int) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// x × y × z.
    @inlinable public var voxelCount: Int { x * y * z }

    /// x × y: the number of voxels in one slice.
    @inlinable public var voxelsPerSlice: Int { x * y }

    /// The sizes as an array `[x, y, z]`.
    public var array: [Int] { [x, y, z] }

    public var description: String { "\(x)×\(y)×\(z)" }
}
