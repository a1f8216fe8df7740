import HounsfieldCore
import Foundation

/// How the slices of a series are stacked: their sorted positions and what the gaps between them say.
///
/// Gaps are measured between neighbouring slice positions. Gantry tilt shows as a stacking direction that is not
/// the slice normal; variable spacing as gaps that differ by more than the tolerance.
public struct StackLayout: Hashable, Sendable {
    /// Slice positions (ImagePositionPatient), sorted along the normal.
    public let positions: [Vector3]
    /// The slice normal, row cosine × column cosine.
    public let normal: Vector3
    /// The unit vector from the first slice position to the last (the normal for a single slice).
    public let stackDirection: Vector3
    /// The angle between the stacking direction and the normal, in degrees: the gantry tilt.
    public let tiltDegrees: Double
    /// Distances between neighbouring positions, in mm.
    public let gaps: [Double]

    /// Two gaps within this many mm of each other count as equal: 1% of the median gap, and at least 0.01 mm,
    /// which is above the rounding of ImagePositionPatient's decimal strings and below any real change of spacing.
    public static func tolerance(forMedianGap median: Double) -> Double { max(0.01, 0.01 * median) }

    /// Tilt below this angle (degrees) is rounding noise: over a 500 mm stack it moves the last slice < 0.2 mm.
    public static let tiltThreshold = 0.02

    /// Measures a stack from its positions, already sorted along `normal` (a unit vector).
    public init(sortedPositions positions: [Vector3], normal: Vector3) {
        self.positions = positions
        self.normal = normal
        let span = (positions.last ?? .zero) - (positions.first ?? .zero)
        stackDirection = span.length > 0 ? span.normalized : normal
        tiltDegrees = acosDegrees(abs(stackDirection.dot(normal)))
        gaps = zip(positions, positions.dropFirst()).map { ($1 - $0).length }
    }

    /// The median gap (nil for a single slice).
    public var medianGap: Double? {
        guard !gaps.isEmpty else { return nil }
        let sorted = gaps.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Extent from first to last slice divided by the number of gaps: ITK's spacing for a stack.
    public var meanGap: Double? {
        guard positions.count > 1 else { return nil }
        return (positions.last! - positions.first!).length / Double(positions.count - 1)
    }

    /// Whether every gap equals the median within the tolerance.
    public var isEvenlySpaced: Bool {
        guard let median = medianGap else { return true }
        let tolerance = Self.tolerance(forMedianGap: median)
        return gaps.allSatisfy { abs($0 - median) <= tolerance }
    }

    /// Whether the stack is tilted relative to its slices.
    public var isTilted: Bool { tiltDegrees > Self.tiltThreshold }

    /// Slices that seem to be missing: gaps that are close to a whole multiple (≥ 2) of the median gap.
    public var missingSliceCount: Int {
        guard let median = medianGap, median > 0 else { return 0 }
        return gaps.reduce(0) { count, gap in
            let ratio = gap / median
            let whole = ratio.rounded()
            return whole >= 2 && abs(ratio - whole) < 0.1 ? count + Int(whole) - 1 : count
        }
    }
}

private func acosDegrees(_ cosine: Double) -> Double {
    acos(Swift.min(1, Swift.max(-1, cosine))) * 180 / .pi
}
