/// Minimum, maximum, mean and (population) standard deviation of a set of voxels.
public struct VoxelStatistics: Hashable, Sendable, Codable {
    /// The number of voxels counted.
    public var count: Int
    /// The smallest value (NaN when there are no voxels).
    public var minimum: Double
    /// The largest value (NaN when there are no voxels).
    public var maximum: Double
    /// The arithmetic mean (NaN when there are no voxels).
    public var mean: Double
    /// The population standard deviation, dividing by `count` as numpy's `std()` does (NaN when there are no voxels).
    public var standardDeviation: Double

    /// Computes the statistics in one pass over slabs in parallel. Within a slab, sums of `x − K` and `(x − K)²` are
    /// taken around the slab's first value `K` (exact for integer HU, and accurate to a few ulps otherwise, since
    /// `K` is near the values); slabs are merged with Chan's formula. This keeps Welford's accuracy without its
    /// division per voxel, which made statistics slower than decoding.
    public init<Scalar: VoxelScalar>(of volume: Volume<Scalar>) {
        let slab = max(1, volume.size.voxelsPerSlice)
        // Callers in other modules reach this generic initializer unspecialized, where every voxel would go through
        // protocol witness calls (statistics then took longer than decoding the volume). Float32, what the chain and
        // `inspect` use, takes a path specialized inside this module.
        let parts = volume.voxels.withUnsafeBufferPointer { voxels in
            Scalar.self == Float32.self
                ? voxels.withMemoryRebound(to: Float32.self) { Self.slabs(of: $0, slab: slab) }
                : Self.slabs(of: voxels, slab: slab)
        }
        let total = parts.reduce(into: Welford()) { $0.merge($1) }
        count = total.count
        minimum = total.count > 0 ? total.minimum : .nan
        maximum = total.count > 0 ? total.maximum : .nan
        mean = total.count > 0 ? total.mean : .nan
        standardDeviation = total.count > 0 ? (total.m2 / Double(total.count)).squareRoot() : .nan
    }

    /// The statistics of each slab of `slab` voxels, in parallel.
    private static func slabs<Scalar: VoxelScalar>(of voxels: UnsafeBufferPointer<Scalar>, slab: Int) -> [Welford] {
        let slabs = (voxels.count + slab - 1) / slab
        return ParallelLoop.map(slabs) { index -> Welford in
            let start = index * slab, end = min(voxels.count, start + slab)
            let shift = voxels[start].doubleValue
            var sum = 0.0, squares = 0.0
            var low = Double.infinity, high = -Double.infinity
            for position in start..<end {
                let value = voxels[position].doubleValue
                let delta = value - shift
                sum += delta
                squares += delta * delta
                low = Swift.min(low, value)
                high = Swift.max(high, value)
            }
            let count = Double(end - start)
            let mean = sum / count
            return Welford(count: end - start, mean: shift + mean, m2: Swift.max(0, squares - sum * mean),
                           minimum: low, maximum: high)
        }
    }
}

/// Count, mean and sum of squared deviations of part of the data, mergeable with another part.
private struct Welford: Sendable {
    var count = 0
    var mean = 0.0
    var m2 = 0.0
    var minimum = Double.infinity
    var maximum = -Double.infinity

    mutating func merge(_ other: Welford) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let total = count + other.count
        let delta = other.mean - mean
        mean += delta * Double(other.count) / Double(total)
        m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / Double(total)
        count = total
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }
}
