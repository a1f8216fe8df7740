/// Where a voxel grid sits in patient space: the mapping from voxel index (i, j, k) to LPS millimetres.
///
/// `world = origin + direction · (spacing ⊙ index)`, with `origin` the centre of voxel (0, 0, 0). This is ITK's and
/// SimpleITK's convention, so values can be compared with theirs directly. Geometry travels with every volume: no
/// Hounsfield API returns voxels without it.
public struct Geometry: Hashable, Sendable {
    /// Centre of the first voxel, in LPS millimetres.
    public var origin: Vector3
    /// Distance between voxel centres along x, y, z, in millimetres.
    public var spacing: Vector3
    /// Unit vectors along which the indices grow.
    public var direction: Direction

    /// Takes the values as given; call ``validate()`` before building on geometry that comes from outside (a file, a
    /// configuration).
    public init(origin: Vector3, spacing: Vector3, direction: Direction) {
        self.origin = origin
        self.spacing = spacing
        self.direction = direction
    }

    /// The patient-space position of a (possibly fractional) voxel index.
    @inlinable public func point(atIndex index: Vector3) -> Vector3 {
        origin + direction.apply(spacing * index)
    }

    /// The (fractional) voxel index of a patient-space point.
    @inlinable public func index(ofPoint point: Vector3) -> Vector3 {
        direction.components(of: point - origin) / spacing
    }

    /// The 4×4 affine (row-major) from voxel index (i, j, k, 1) to LPS millimetres.
    public var affineLPS: [[Double]] {
        let columns = [direction.x * spacing.x, direction.y * spacing.y, direction.z * spacing.z]
        return (0..<3).map { row in
            [columns[0][row], columns[1][row], columns[2][row], origin[row]]
        } + [[0, 0, 0, 1]]
    }

    /// The same affine in RAS (as nibabel and NIfTI use): the x and y rows negated.
    public var affineRAS: [[Double]] {
        var affine = affineLPS
        for column in 0..<4 {
            affine[0][column] = -affine[0][column]
            affine[1][column] = -affine[1][column]
        }
        return affine
    }

    /// Checks the values a volume can be built on: finite origin, positive finite spacing, orthonormal direction.
    public func validate() throws(GeometryError) {
        guard origin.x.isFinite, origin.y.isFinite, origin.z.isFinite else { throw .nonFiniteOrigin(origin) }
        for axis in 0..<3 where !(spacing[axis].isFinite && spacing[axis] > 0) {
            throw .invalidSpacing(spacing)
        }
        let axes = [direction.x, direction.y, direction.z]
        for a in 0..<3 {
            guard abs(axes[a].length - 1) < 1e-4 else { throw .notOrthonormal(direction.rowMajor) }
            for b in (a + 1)..<3 where abs(axes[a].dot(axes[b])) > 1e-4 {
                throw .notOrthonormal(direction.rowMajor)
            }
        }
    }
}

/// Why a geometry cannot describe a voxel grid.
public enum GeometryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A component of the origin is NaN or infinite.
    case nonFiniteOrigin(Vector3)
    /// A spacing is zero, negative, NaN or infinite (millimetres, x, y, z).
    case invalidSpacing(Vector3)
    /// The axes are not unit length or not perpendicular (within 1e-4); the payload is the direction, row-major.
    case notOrthonormal([Double])

    public var description: String {
        switch self {
        case .nonFiniteOrigin(let origin):
            "the origin \(origin.array) is not finite"
        case .invalidSpacing(let spacing):
            "the spacing \(spacing.array) must be positive and finite on every axis"
        case .notOrthonormal(let matrix):
            "the direction \(matrix) is not orthonormal"
        }
    }
}
