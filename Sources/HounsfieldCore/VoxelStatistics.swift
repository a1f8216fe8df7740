/// Minimum, maximum, mean and (population) standard deviation of a set of voxels.
public struct VoxelStatistics: Hashable, Sendable, Codable {
    public var count: Int
    public var minimum: Double
    public var maximum: Double
    public var mean: Double
    public var standardDeviation: Double

    /// Computes the statistics in one pass with Welford's update, which stays accurate over hundreds of millions of
    /// voxels where a naive sum of squares loses digits; partial results of slabs are merged with Chan's formula.
    public init<Scalar: VoxelScalar>(of volume: Volume<Scalar>) {
        let slab = max(1, volume.size.sliceCount)
        let parts = volume.voxels.withUnsafeBufferPointer { voxels in
            let slabs = (voxels.count + slab - 1) / slab
            return ParallelLoop.map(slabs) { index -> Welford in
                var part = Welford()
                let end = min(voxels.count, (index + 1) * slab)
                for position in (index * slab)..<end { part.add(voxels[position].doubleValue) }
                return part
            }
        }
        let total = parts.reduce(into: Welford()) { $0.merge($1) }
        count = total.count
        minimum = total.count > 0 ? total.minimum : .nan
        maximum = total.count > 0 ? total.maximum : .nan
        mean = total.count > 0 ? total.mean : .nan
        standardDeviation = total.count > 0 ? (total.m2 / Double(total.count)).squareRoot() : .nan
    }
}

/// Running mean and sum of squared deviations.
private struct Welford: Sendable {
    var count = 0
    var mean = 0.0
    var m2 = 0.0
    var minimum = Double.infinity
    var maximum = -Double.infinity

    mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
        minimum = min(minimum, value)
        maximum = max(maximum, value)
    }

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
