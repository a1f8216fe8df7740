import HounsfieldCore

/// Where the slices of a series lie, for putting label frames and contours on them: each slice's SOP instance and
/// its height along the slice normal.
struct SlicePlacement {
    /// The series' slice normal (the third direction of its geometry).
    let normal: Vector3
    /// The in-plane directions (rows grow along `row`, columns along `column`).
    let row: Vector3, column: Vector3
    /// Each slice's ImagePositionPatient, in the series' slice order.
    let positions: [Vector3]
    /// Each slice's height along `normal`.
    let heights: [Double]
    /// The slice of each single-frame image, by SOPInstanceUID.
    let sliceBySOPInstance: [String: Int]
    /// The smallest distance between neighbouring slices (the series' z spacing for one slice).
    let gap: Double
    /// The series' pixel spacing along x (columns) and y (rows).
    let pixelSpacing: (x: Double, y: Double)

    init(_ series: SeriesDescriptor) {
        let direction = series.geometry.direction
        normal = direction.z
        row = direction.x
        column = direction.y
        positions = series.slices.map(\.position)
        heights = positions.map { $0.dot(direction.z) }
        var bySOP: [String: Int] = [:]
        for (index, slice) in series.slices.enumerated() {
            let image = series.images[slice.image]
            if image.frames.count == 1, let uid = image.sopInstanceUID { bySOP[uid] = index }
        }
        sliceBySOPInstance = bySOP
        let sorted = heights.sorted()
        let gaps = zip(sorted.dropFirst(), sorted).map { $0 - $1 }.filter { $0 > 1e-6 }
        gap = gaps.min() ?? series.geometry.spacing.z
        pixelSpacing = (series.geometry.spacing.x, series.geometry.spacing.y)
    }

    /// The slice nearest to height `height` along the normal, when it is within `tolerance` millimetres.
    func slice(atHeight height: Double, tolerance: Double) -> Int? {
        var best: Int?
        var bestDistance = Double.infinity
        for (index, sliceHeight) in heights.enumerated() {
            let distance = abs(sliceHeight - height)
            if distance < bestDistance { (best, bestDistance) = (index, distance) }
        }
        return bestDistance <= tolerance ? best : nil
    }

    /// The in-plane offset of `point` from slice `index`'s first pixel, in pixels along (x, y).
    func inPlaneOffset(of point: Vector3, slice index: Int) -> (x: Double, y: Double) {
        let d = point - positions[index]
        return (d.dot(row) / pixelSpacing.x, d.dot(column) / pixelSpacing.y)
    }
}
