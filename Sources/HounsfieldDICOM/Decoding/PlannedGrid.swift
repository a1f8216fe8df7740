import Foundation
import HounsfieldCore

/// The grid a series will be loaded onto, decided from headers alone (no pixel is decoded), and the corrections
/// that lead there. Reports and `--dry-run` show it; `loadVolume` follows it.
public struct PlannedGrid: Hashable, Sendable {
    /// How the decoded stack becomes the planned grid.
    public enum Method: Hashable, Sendable {
        /// The sorted stack, unchanged.
        case stack
        /// Slices blended along the stack at even steps; the in-plane grid is unchanged.
        case evenSlices(spacing: Double)
        /// Trilinear resampling onto an orthogonal grid aligned with the stacking direction (tilt correction).
        case orthogonalGrid
    }

    /// Voxel counts of the loaded volume.
    public var size: GridSize
    /// Where the loaded volume will sit in patient space (LPS, mm).
    public var geometry: Geometry
    /// How the stack is brought onto that grid.
    public var method: Method
    /// Sentences for reports: what was corrected and how.
    public var corrections: [String]

    /// Size and geometry together.
    public var grid: (size: GridSize, geometry: Geometry) { (size, geometry) }
}

extension SeriesDescriptor {
    /// Decides the output grid under `options`, or throws when a `reject` policy applies.
    public func plannedGrid(for options: LoadOptions) throws(DICOMError) -> PlannedGrid {
        let stack = PlannedGrid(size: size, geometry: geometry, method: .stack, corrections: [])
        guard slices.count > 1 else { return stack }
        let tilted = layout.isTilted
        let uneven = !layout.isEvenlySpaced
        if tilted && options.tilt == .reject {
            throw .seriesRejected(
                series: key,
                reason: "gantry tilt of \(rounded(layout.tiltDegrees))° and the tilt policy is 'reject'; use 'correct' to resample it onto an orthogonal grid, or 'keep'")
        }
        if uneven && options.spacing == .reject {
            throw .seriesRejected(
                series: key,
                reason: "slice spacing varies (\(rounded(layout.gaps.min()!))–\(rounded(layout.gaps.max()!)) mm) and the spacing policy is 'reject'; use 'resample' or 'split'")
        }
        let step = evenStep(uneven: uneven)
        if tilted && options.tilt == .correct {
            return orthogonalGrid(step: step, uneven: uneven)
        }
        if uneven && (options.spacing == .resample || options.spacing == .split) {
            let extent = (layout.positions.last! - layout.positions.first!).length
            let count = Int((extent / step + 1e-6).rounded(.down)) + 1
            var geometry = geometry
            geometry.spacing.z = step
            return PlannedGrid(
                size: GridSize(x: size.x, y: size.y, z: count), geometry: geometry, method: .evenSlices(spacing: step),
                corrections: ["slice spacing varied (\(rounded(layout.gaps.min()!))–\(rounded(layout.gaps.max()!)) mm): \(slices.count) slices interpolated onto \(count) slices \(rounded(step)) mm apart"])
        }
        return stack
    }

    /// The even spacing for a corrected stack: the usual gap when gaps agree; otherwise the smallest gap, but no
    /// finer than half the mean gap, so one close pair of slices cannot multiply the volume's size.
    private func evenStep(uneven: Bool) -> Double {
        guard uneven else { return layout.meanGap! }
        let extent = (layout.positions.last! - layout.positions.first!).length
        return max(layout.gaps.min()!, extent / Double(2 * (slices.count - 1)))
    }

    /// An orthogonal grid: z along the stacking direction (the table axis), x along the row cosine made
    /// perpendicular to it, y completing a right-handed frame; it covers every acquired voxel.
    private func orthogonalGrid(step: Double, uneven: Bool) -> PlannedGrid {
        let zAxis = layout.stackDirection
        let row = geometry.direction.x
        let xAxis = (row - zAxis * row.dot(zAxis)).normalized
        let yAxis = zAxis.cross(xAxis)
        let direction = Direction(x: xAxis, y: yAxis, z: zAxis)
        let origin0 = layout.positions[0]
        var low = Vector3(repeating: .infinity), high = Vector3(repeating: -.infinity)
        let width = Double(size.x - 1) * geometry.spacing.x, height = Double(size.y - 1) * geometry.spacing.y
        for position in layout.positions {
            for corner in [Vector3(0, 0, 0), Vector3(width, 0, 0), Vector3(0, height, 0), Vector3(width, height, 0)] {
                let point = position + geometry.direction.x * corner.x + geometry.direction.y * corner.y
                let local = direction.components(of: point - origin0)
                low = pointwiseMin(low, local)
                high = pointwiseMax(high, local)
            }
        }
        let spacing = Vector3(geometry.spacing.x, geometry.spacing.y, step)
        let counts = (high - low) / spacing
        let size = GridSize(
            x: Int((counts.x + 1e-6).rounded(.down)) + 1, y: Int((counts.y + 1e-6).rounded(.down)) + 1,
            z: Int((counts.z + 1e-6).rounded(.down)) + 1)
        let origin = origin0 + direction.apply(low)
        var corrections = [
            "gantry tilt of \(rounded(layout.tiltDegrees))° corrected: resampled (trilinear, along the slice normal) onto an orthogonal \(size) grid aligned with the table axis"
        ]
        if uneven {
            corrections.append("slice spacing varied (\(rounded(layout.gaps.min()!))–\(rounded(layout.gaps.max()!)) mm): output slices are \(rounded(step)) mm apart")
        }
        return PlannedGrid(
            size: size, geometry: Geometry(origin: origin, spacing: spacing, direction: direction),
            method: .orthogonalGrid, corrections: corrections)
    }
}

private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
