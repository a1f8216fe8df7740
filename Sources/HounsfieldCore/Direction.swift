/// The orientation of a voxel grid: the unit vectors, in patient space (LPS), along which the x, y and z indices grow.
///
/// For a DICOM series `x` is the row cosine (the direction along a row, as the column index grows), `y` the column
/// cosine, and `z` the slice normal `x × y`, so the determinant is +1 — the same as SimpleITK's `ImageSeriesReader`.
public struct Direction: Hashable, Sendable {
    /// The unit vector along which the x index (the column index) grows: a DICOM series' row cosine.
    public var x: Vector3
    /// The unit vector along which the y index (the row index) grows: a DICOM series' column cosine.
    public var y: Vector3
    /// The unit vector along which the z index (the slice index) grows: the slice normal `x × y` for a DICOM series.
    public var z: Vector3

    /// Takes the three axes as given; nothing is normalized or checked here (``Geometry/validate()`` checks that they
    /// are orthonormal).
    public init(x: Vector3, y: Vector3, z: Vector3) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The identity orientation: x → L, y → P, z → S.
    public static let identity = Direction(x: [1, 0, 0], y: [0, 1, 0], z: [0, 0, 1])

    /// The nine values in row-major order, as SimpleITK's `GetDirection()` returns them: the columns of the matrix are
    /// the axes, so `matrix[3 * row + column]` is component `row` of axis `column`.
    public var rowMajor: [Double] {
        // Adding 0 turns −0 into 0, so reports never print "-0".
        [x.x, y.x, z.x, x.y, y.y, z.y, x.z, y.z, z.z].map { $0 + 0 }
    }

    /// Builds a direction from SimpleITK's row-major nine values.
    public init(rowMajor m: [Double]) {
        precondition(m.count == 9, "a direction has nine values")
        self.init(x: [m[0], m[3], m[6]], y: [m[1], m[4], m[7]], z: [m[2], m[5], m[8]])
    }

    /// The determinant: +1 for a right-handed orientation, −1 for a mirrored one.
    public var determinant: Double { x.dot(y.cross(z)) }

    /// `D · v`: the patient-space vector whose components along the axes are `v`.
    @inlinable public func apply(_ v: Vector3) -> Vector3 { x * v.x + y * v.y + z * v.z }

    /// `Dᵀ · v`: the components of patient-space `v` along the three axes (exact because the axes are orthonormal).
    @inlinable public func components(of v: Vector3) -> Vector3 { Vector3(x.dot(v), y.dot(v), z.dot(v)) }
}
