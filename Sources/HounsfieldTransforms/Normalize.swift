import HounsfieldCore

/// Intensity normalization, by the names users know.
///
/// - `minmax`: the volume's [min, max] mapped linearly onto [`low`, `high`] (default [0, 1]).
/// - `zscore`: `(x − mean) / std`, with `mean` and `standardDeviation` given (dataset statistics) or, when absent,
///   those of the volume (MONAI's `NormalizeIntensity`).
/// - `nnunet-ct`: nnU-Net's CT scheme: clip to [`lower`, `upper`] (the dataset's foreground 0.5 and 99.5
///   percentiles), then `(x − mean) / max(std, 1e-8)` with the dataset's foreground mean and std.
/// Arithmetic is in Double, rounded once to Float32.
public struct Normalize: VolumeTransform, Hashable, Codable {
    public enum Method: String, Hashable, Sendable, Codable, CaseIterable {
        case minMax = "minmax"
        case zScore = "zscore"
        case nnUNetCT = "nnunet-ct"
    }

    public var method: Method
    public var low: Double?
    public var high: Double?
    public var mean: Double?
    public var standardDeviation: Double?
    public var lower: Double?
    public var upper: Double?

    /// Min-max onto [low, high].
    public static func minMax(low: Double = 0, high: Double = 1) -> Normalize {
        Normalize(method: .minMax, low: low, high: high)
    }

    /// Z-score with given statistics, or the volume's own when nil.
    public static func zScore(mean: Double? = nil, standardDeviation: Double? = nil) -> Normalize {
        Normalize(method: .zScore, mean: mean, standardDeviation: standardDeviation)
    }

    /// nnU-Net's CT normalization with the dataset's foreground statistics.
    public static func nnUNetCT(lower: Double, upper: Double, mean: Double, standardDeviation: Double) -> Normalize {
        Normalize(method: .nnUNetCT, mean: mean, standardDeviation: standardDeviation, lower: lower, upper: upper)
    }

    public init(
        method: Method, low: Double? = nil, high: Double? = nil, mean: Double? = nil,
        standardDeviation: Double? = nil, lower: Double? = nil, upper: Double? = nil
    ) {
        self.method = method
        self.low = low
        self.high = high
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.lower = lower
        self.upper = upper
    }

    public var specification: TransformSpecification { .normalize(self) }

    public func validate() throws(TransformError) {
        for (value, name) in [(low, "low"), (high, "high"), (mean, "mean"), (lower, "lower"), (upper, "upper")] {
            if let value { try Check.finite(value, "normalize \(name)") }
        }
        if let standardDeviation { try Check.positive(standardDeviation, "normalize standardDeviation") }
        switch method {
        case .minMax:
            guard (high ?? 1) > (low ?? 0) else {
                throw .invalidParameter(name: "normalize high", value: "\(high ?? 1)", expected: "above low (\(low ?? 0))")
            }
        case .zScore:
            guard (mean == nil) == (standardDeviation == nil) else {
                throw .invalidParameter(
                    name: "zscore statistics", value: "only one of mean and standardDeviation",
                    expected: "both given (dataset statistics) or neither (the volume's own)")
            }
        case .nnUNetCT:
            guard let lower, let upper, mean != nil, standardDeviation != nil else {
                throw .invalidParameter(
                    name: "nnunet-ct", value: "incomplete",
                    expected: "lower, upper (foreground percentiles), mean and standardDeviation, all given")
            }
            guard upper > lower else {
                throw .invalidParameter(name: "nnunet-ct upper", value: "\(upper)", expected: "above lower (\(lower))")
            }
        }
    }

    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try validate()
        try Check.nonEmpty(volume)
        switch method {
        case .minMax:
            let statistics = VoxelStatistics(of: volume)
            let low = low ?? 0, high = high ?? 1
            let range = statistics.maximum - statistics.minimum
            let minimum = statistics.minimum
            guard range > 0 else { return PointwiseMap.apply(volume) { _ in Float32(low) } }
            return PointwiseMap.apply(volume) { Float32((Double($0) - minimum) / range * (high - low) + low) }
        case .zScore:
            let (mean, deviation): (Double, Double)
            if let given = self.mean, let std = standardDeviation {
                (mean, deviation) = (given, std)
            } else {
                let statistics = VoxelStatistics(of: volume)
                (mean, deviation) = (statistics.mean, max(statistics.standardDeviation, 1e-8))
            }
            return PointwiseMap.apply(volume) { Float32((Double($0) - mean) / deviation) }
        case .nnUNetCT:
            let lower = lower!, upper = upper!, mean = mean!, deviation = max(standardDeviation!, 1e-8)
            return PointwiseMap.apply(volume) { Float32((min(max(Double($0), lower), upper) - mean) / deviation) }
        }
    }
}
