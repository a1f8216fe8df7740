import HounsfieldCore

/// Foreground intensity statistics over a whole dataset, accumulated one volume at a time in bounded memory: what
/// nnU-Net's CT normalization needs (the foreground's 0.5 and 99.5 percentiles, mean and standard deviation).
///
/// Foreground is the label's non-zero voxels when a label is given (nnU-Net's definition), otherwise voxels above
/// `threshold` HU (the body; −500 by default). Mean and std come from sums of x and x² in Double, merged per slice:
/// exact for integer HU while the sum of squares stays below 2^53 (about 10^9 foreground voxels), and within about
/// 1e-12 relative beyond (the variance of CT foreground is far from the cancellation that would hurt E[x²] − mean²).
/// Percentiles come from
/// a histogram of 1/16 HU bins over [−4096, 8192) HU: exact for integer HU, within 1/16 HU otherwise, and values
/// outside the range are counted at its ends. Memory is fixed (about 1.5 MB) whatever the dataset's size; two
/// partial statistics (from two workers) merge with `merge`.
public struct DatasetStatistics: Sendable, Hashable {
    /// The lower end of the histogram, in HU: the centre of the first bin.
    public static let lowestValue = -4096.0
    /// Histogram bins per HU: percentiles are resolved to 1/16 HU.
    public static let binsPerUnit = 16.0
    /// The number of histogram bins: 12288 HU (−4096 up to 8192) at 16 bins per HU.
    public static let binCount = 12288 * 16

    /// Without a label, voxels above this value (HU) are the foreground.
    public var threshold: Double
    /// Foreground voxels counted so far (non-finite values are skipped).
    public private(set) var count = 0
    private var sum = 0.0
    private var squares = 0.0
    private var histogram: [UInt64]

    /// Empty statistics whose foreground, without a label, is the voxels above `threshold` HU.
    public init(threshold: Double = -500) {
        self.threshold = threshold
        histogram = Array(repeating: 0, count: Self.binCount)
    }

    /// Adds the foreground voxels of one volume (and its label, if any).
    public mutating func add(_ volume: Volume<Float32>, label: Volume<Float32>? = nil) throws(TransformError) {
        if let label, label.size != volume.size {
            throw .invalidParameter(name: "label size", value: "\(label.size)", expected: "the image's size \(volume.size)")
        }
        let plane = volume.size.voxelsPerSlice, threshold = Float32(threshold)
        // One dense histogram per task over a contiguous run of slices (a few MB each), merged at the end.
        let runs = min(volume.size.z, ParallelLoop.defaultConcurrency)
        let parts = volume.voxels.withUnsafeBufferPointer { voxels in
            ParallelLoop.map(runs) { run -> DatasetStatistics in
                var part = DatasetStatistics(threshold: self.threshold)
                let first = run * volume.size.z / runs * plane, last = (run + 1) * volume.size.z / runs * plane
                for index in first..<last {
                    let value = voxels[index]
                    let isForeground = label.map { $0.voxels[index] != 0 } ?? (value > threshold)
                    guard isForeground, value.isFinite else { continue }
                    let v = Double(value)
                    part.count += 1
                    part.sum += v
                    part.squares += v * v
                    part.histogram[Self.bin(of: v)] += 1
                }
                return part
            }
        }
        for part in parts { merge(part) }
    }

    /// Combines statistics gathered separately (other workers, other shards).
    public mutating func merge(_ other: DatasetStatistics) {
        count += other.count
        sum += other.sum
        squares += other.squares
        for index in histogram.indices { histogram[index] += other.histogram[index] }
    }

    /// The foreground mean (NaN before any voxel is counted).
    public var mean: Double { count > 0 ? sum / Double(count) : .nan }

    /// Population standard deviation (numpy's default, as nnU-Net uses).
    public var standardDeviation: Double {
        guard count > 0 else { return .nan }
        return max(0, squares / Double(count) - mean * mean).squareRoot()
    }

    /// The `p`-th percentile (0…100) with numpy's default linear interpolation between order statistics.
    public func percentile(_ p: Double) -> Double {
        guard count > 0 else { return .nan }
        let rank = min(max(p, 0), 100) / 100 * Double(count - 1)
        let below = Int(rank.rounded(.down)), fraction = rank - Double(below)
        let a = value(atRank: below), b = fraction > 0 ? value(atRank: below + 1) : a
        return a + fraction * (b - a)
    }

    /// nnU-Net's CT normalization with these statistics.
    public var nnUNetCT: Normalize {
        .nnUNetCT(lower: percentile(0.5), upper: percentile(99.5), mean: mean, standardDeviation: standardDeviation)
    }

    private func value(atRank rank: Int) -> Double {
        var seen: UInt64 = 0
        for (bin, n) in histogram.enumerated() where n > 0 {
            seen += n
            if seen > UInt64(rank) { return Self.lowestValue + Double(bin) / Self.binsPerUnit }
        }
        return Self.lowestValue + Double(Self.binCount - 1) / Self.binsPerUnit
    }

    private static func bin(of value: Double) -> Int {
        min(max(Int(((value - lowestValue) * binsPerUnit).rounded()), 0), binCount - 1)
    }
}
