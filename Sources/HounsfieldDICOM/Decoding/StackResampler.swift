import HounsfieldCore

/// Moves a decoded stack onto a planned grid: even slices along the stack, or an orthogonal grid for tilt.
enum StackResampler {
    /// Blends neighbouring slices at even steps along the stack; the in-plane grid is untouched, so each output
    /// slice is `(1 − w) · below + w · above`.
    static func evenSlices(_ stack: Volume<Float32>, layout: StackLayout, grid: PlannedGrid, step: Double) -> Volume<Float32> {
        var distance = [0.0]
        for gap in layout.gaps { distance.append(distance.last! + gap) }
        let plane = stack.size.voxelsPerSlice
        return stack.voxels.withUnsafeBufferPointer { input in
            Volume(size: grid.size, geometry: grid.geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(grid.size.z) { k in
                    let target = Double(k) * step
                    var below = 0
                    while below + 2 < distance.count && distance[below + 1] <= target { below += 1 }
                    let above = min(below + 1, distance.count - 1)
                    let span = distance[above] - distance[below]
                    let weight = Float(span > 0 ? min(1, max(0, (target - distance[below]) / span)) : 0)
                    let a = input.baseAddress! + below * plane, b = input.baseAddress! + above * plane
                    let out = slots.base + k * plane
                    for index in 0..<plane { out[index] = a[index] + weight * (b[index] - a[index]) }
                }
            }
        }
    }

    /// Samples the stack at every voxel centre of an orthogonal grid. A point is placed between the two slices
    /// that bracket it along the slice normal; on each, bilinear interpolation at the foot of the perpendicular;
    /// then linear interpolation between the two. This is exact trilinear interpolation in the stack's own sheared
    /// coordinates, and handles uneven gaps at the same time. Points outside the acquired slab get `fill`.
    static func orthogonalGrid(
        _ stack: Volume<Float32>, layout: StackLayout, grid: PlannedGrid, fill: Float
    ) -> Volume<Float32> {
        let normal = layout.normal
        let row = stack.geometry.direction.x, column = stack.geometry.direction.y
        let spacing = stack.geometry.spacing
        let first = layout.positions[0]
        let offsets = layout.positions.map { ($0 - first).dot(normal) }
        let width = stack.size.x, height = stack.size.y, plane = stack.size.voxelsPerSlice
        let out = grid.geometry
        let stepX = out.direction.x * out.spacing.x
        // How far one output x step moves along the normal (zero when the rows stay in the slice planes).
        let dt = stepX.dot(normal)

        return stack.voxels.withUnsafeBufferPointer { input in
            Volume(size: grid.size, geometry: grid.geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(grid.size.z) { k in
                    for j in 0..<grid.size.y {
                        let start = out.point(atIndex: Vector3(0, Double(j), Double(k)))
                        let rowOut = slots.base + (k * grid.size.y + j) * grid.size.x
                        var lower = 0
                        for i in 0..<grid.size.x {
                            let t = (start - first).dot(normal) + Double(i) * dt
                            guard t >= offsets[0] - 1e-6, t <= offsets[offsets.count - 1] + 1e-6 else {
                                rowOut[i] = fill
                                continue
                            }
                            while lower > 0 && offsets[lower] > t { lower -= 1 }
                            while lower + 2 < offsets.count && offsets[lower + 1] < t { lower += 1 }
                            let upper = min(lower + 1, offsets.count - 1)
                            let span = offsets[upper] - offsets[lower]
                            let w = span > 0 ? min(1, max(0, (t - offsets[lower]) / span)) : 0
                            let point = start + stepX * Double(i)
                            let a = sample(input.baseAddress! + lower * plane, width, height,
                                           (point - layout.positions[lower]).dot(row) / spacing.x,
                                           (point - layout.positions[lower]).dot(column) / spacing.y, fill)
                            let b = w > 0 ? sample(input.baseAddress! + upper * plane, width, height,
                                                   (point - layout.positions[upper]).dot(row) / spacing.x,
                                                   (point - layout.positions[upper]).dot(column) / spacing.y, fill) : a
                            rowOut[i] = Float(Double(a) + w * (Double(b) - Double(a)))
                        }
                    }
                }
            }
        }
    }

    /// Bilinear sample of one slice at pixel coordinates (u along a row, v down the columns); `fill` outside.
    @inline(__always)
    private static func sample(
        _ slice: UnsafePointer<Float32>, _ width: Int, _ height: Int, _ u: Double, _ v: Double, _ fill: Float
    ) -> Float {
        let epsilon = 1e-6
        guard u >= -epsilon, v >= -epsilon, u <= Double(width - 1) + epsilon, v <= Double(height - 1) + epsilon else {
            return fill
        }
        let x0 = min(max(Int(u.rounded(.down)), 0), max(width - 2, 0))
        let y0 = min(max(Int(v.rounded(.down)), 0), max(height - 2, 0))
        let fx = Float(min(max(u - Double(x0), 0), 1)), fy = Float(min(max(v - Double(y0), 0), 1))
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let top = slice[y0 * width + x0] + fx * (slice[y0 * width + x1] - slice[y0 * width + x0])
        let bottom = slice[y1 * width + x0] + fx * (slice[y1 * width + x1] - slice[y1 * width + x0])
        return top + fy * (bottom - top)
    }
}
