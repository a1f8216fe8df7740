/// A point or direction in patient space (LPS, millimetres), or a triple of per-axis values (x, y, z).
public typealias Vector3 = SIMD3<Double>

extension SIMD3 where Scalar == Double {
    /// The dot product: `a.dot(b)` reads as "a dot b".
    @inlinable public func dot(_ other: Self) -> Double { (self * other).sum() }

    /// The cross product `self × other`; for a row and a column cosine it is the slice normal.
    @inlinable public func cross(_ other: Self) -> Self {
        Self(y * other.z - z * other.y, z * other.x - x * other.z, x * other.y - y * other.x)
    }

    /// The Euclidean length.
    @inlinable public var length: Double { dot(self).squareRoot() }

    /// The same direction with length 1 (or zero when the vector is zero).
    @inlinable public var normalized: Self {
        let l = length
        return l > 0 ? self / l : self
    }

    /// The components as an array, as JSON and HDF5 attributes store them.
    @inlinable public var array: [Double] { [x, y, z] }
}
