/// The number of voxels along x (columns), y (rows) and z (slices).
public struct GridSize: Hashable, Sendable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var z: Int

    public init(x: Int, y: Int, z: Int) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// x × y × z.
    @inlinable public var voxelCount: Int { x * y * z }

    /// x × y: the number of voxels in one slice.
    @inlinable public var sliceCount: Int { x * y }

    /// The sizes as an array `[x, y, z]`.
    public var array: [Int] { [x, y, z] }

    public var description: String { "\(x)×\(y)×\(z)" }
}
