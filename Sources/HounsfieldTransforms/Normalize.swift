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
    /// The normalization scheme; the raw value is the name configurations use.
    public enum Method: String, Hashable, Sendable, Codable, CaseIterable {
        /// The volume's own range mapped onto [`low`, `high`].
        case minMax = "minmax"
        /// `(x − mean) / std`, with given or the volume's own statistics.
        case zScore = "zscore"
        /// Clip to the dataset's foreground percentiles, then z-score with its foreground statistics.
        case nnUNetCT = "nnunet-ct"
    }

    /// Which scheme applies; the other properties are its parameters.
    public var method: Method
    /// `minmax`: the output's lower end (0 when nil).
    public var low: Double?
    /// `minmax`: the output's upper end (1 when nil).
    public var high: Double?
    /// `zscore` and `nnunet-ct`: the mean to subtract, in the input's units (HU).
    public var mean: Double?
    /// `zscore` and `nnunet-ct`: the standard deviation to divide by, in the input's units; positive.
    public var standardDeviation: Double?
    /// `nnunet-ct`: the lower clip, the dataset's foreground 0.5 percentile (HU).
    public var lower: Double?
    /// `nnunet-ct`: the upper clip, the dataset's foreground 99.5 percentile (HU).
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

    /// The memberwise form, for configurations; ``minMax(low:high:)``, ``zScore(mean:standardDeviation:)`` and
    /// ``nnUNetCT(lower:upper:mean:standardDeviation:)`` read better in code.
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

    /// `{"type": "normalize", "method": "minmax" | "zscore" | "nnunet-ct", …}` with the method's parameters.
    public var specification: TransformSpecification { .normalize(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` for a non-finite parameter, a standard
    /// deviation that is not positive, `high` not above `low`, only one of `mean` and `standardDeviation` for `zscore`,
    /// or `nnunet-ct` without all four statistics or with `upper` not above `lower`.
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

    /// The normalized volume, same geometry. A constant volume under `minmax` becomes `low` everywhere; under `zscore`
    /// with its own statistics, the standard deviation is floored at 1e-8. Throws when the parameters are invalid or
    /// the volume is empty.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        var result = volume
        try normalize(&result, inPlace: false)
        return result
    }

    /// Over the volume's own voxels: a chain's z-score or nnU-Net step touches no new memory.
    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        try normalize(&volume, inPlace: true)
    }

    /// One switch for both ways of applying, so they cannot drift apart; `map` is inlined with each formula, which
    /// keeps the loops specialized (an opaque closure per voxel halves their speed).
    private func normalize(_ volume: inout Volume<Float32>, inPlace: Bool) throws(TransformError) {
        try validate()
        try Check.nonEmpty(volume)
        @inline(__always) func map(_ formula: (Float32) -> Float32) {
            if inPlace {
                PointwiseMap.apply(inPlace: &volume, formula)
            } else {
                volume = PointwiseMap.apply(volume, formula)
            }
        }
        switch method {
        case .minMax:
            let statistics = VoxelStatistics(of: volume)
            let low = low ?? 0, high = high ?? 1
            let range = statistics.maximum - statistics.minimum
            let minimum = statistics.minimum
            guard range > 0 else { return map { _ in Float32(low) } }
            map { Float32((Double($0) - minimum) / range * (high - low) + low) }
        case .zScore:
            let (mean, deviation): (Double, Double)
            if let given = self.mean, let std = standardDeviation {
                (mean, deviation) = (given, std)
            } else {
                let statistics = VoxelStatistics(of: volume)
                (mean, deviation) = (statistics.mean, max(statistics.standardDeviation, 1e-8))
            }
            map { Float32((Double($0) - mean) / deviation) }
        case .nnUNetCT:
            let lower = lower!, upper = upper!, mean = mean!, deviation = max(standardDeviation!, 1e-8)
            map { Float32((min(max(Double($0), lower), upper) - mean) / deviation) }
        }
    }
}
