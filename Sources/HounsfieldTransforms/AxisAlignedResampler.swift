import HounsfieldCore

/// Resampling between grids with the same direction: each output axis maps to one input axis by
/// `c = offset + scale · i`, so interpolation is separable. Work goes slice by slice: an output slice needs at
/// most two input slices, each resampled in-plane (x, then y) and blended along z. Memory is the output plus a few
/// planes per worker, never a second full volume.
struct AxisAlignedResampler {
    /// Per output index along one axis: the two input neighbours, the weight of the upper one, and whether the
    /// point lies inside the input (within half a voxel of its edge, ITK's rule).
    struct AxisMap {
        var lower: [Int]
        var upper: [Int]
        var weight: [Float32]
        var inside: [Bool]

        /// `shift` is the output origin's offset from the input origin along this axis, in mm. The index is
        /// `(shift + outputSpacing · i) · (1 / inputSpacing)`: a point, then the inverse spacing, in ITK's order.
        /// At an exact half-voxel tie (common with centre alignment) nearest neighbour may still pick the other,
        /// equally near voxel than ITK, whose inverse comes from a numerical matrix inversion.
        init(outputCount: Int, inputCount: Int, shift: Double, outputSpacing: Double, inputSpacing: Double, nearest: Bool) {
            (lower, upper, weight, inside) = ([], [], [], [])
            let inverseSpacing = 1 / inputSpacing
            for index in 0..<outputCount {
                let c = (shift + outputSpacing * Double(index)) * inverseSpacing
                inside.append(c >= -0.5 && c < Double(inputCount) - 0.5)
                if nearest {
                    // ITK rounds half up: floor(c + 0.5).
                    let nearestIndex = min(max(Int((c + 0.5).rounded(.down)), 0), inputCount - 1)
                    lower.append(nearestIndex)
                    upper.append(nearestIndex)
                    weight.append(0)
                } else {
                    let base = Int(c.rounded(.down))
                    lower.append(min(max(base, 0), inputCount - 1))
                    upper.append(min(max(base + 1, 0), inputCount - 1))
                    weight.append(Float32(c - Double(base)))
                }
            }
        }
    }

    let input: Volume<Float32>
    let size: GridSize
    let geometry: Geometry
    let nearest: Bool
    let fill: Float32

    func run() -> Volume<Float32> {
        let source = input.geometry
        let shift = source.direction.components(of: geometry.origin - source.origin)
        func map(_ axis: Int, _ outputCount: Int, _ inputCount: Int) -> AxisMap {
            AxisMap(outputCount: outputCount, inputCount: inputCount, shift: shift[axis],
                    outputSpacing: geometry.spacing[axis], inputSpacing: source.spacing[axis], nearest: nearest)
        }
        let xs = map(0, size.x, input.size.x), ys = map(1, size.y, input.size.y), zs = map(2, size.z, input.size.z)
        let inputPlane = input.size.sliceCount, outputPlane = size.sliceCount
        let (inputWidth, inputHeight) = (input.size.x, input.size.y)
        let (width, height) = (size.x, size.y)
        let fill = fill

        if nearest { return gather(xs: xs, ys: ys, zs: zs) }
        // Contiguous runs of output slices per task, so neighbouring output slices reuse the input planes they
        // share (each input plane is resampled in-plane about once, not once per output slice that touches it).
        let runs = min(size.z, ParallelLoop.defaultConcurrency * 4)
        return input.voxels.withUnsafeBufferPointer { voxels in
            Volume(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(runs) { run in
                    var planes = PlaneCache(width: width, height: height, inputHeight: inputHeight)
                    let first = run * size.z / runs, last = (run + 1) * size.z / runs
                    for k in first..<last {
                        let out = slots.base + k * outputPlane
                        guard zs.inside[k] else {
                            out.update(repeating: fill, count: outputPlane)
                            continue
                        }
                        let w = zs.weight[k]
                        let lower = planes.plane(zs.lower[k]) { z, rows, plane in
                            resamplePlane(voxels.baseAddress! + z * inputPlane, rows: rows, into: plane)
                        }
                        if w != 0 && zs.upper[k] != zs.lower[k] {
                            let upper = planes.plane(zs.upper[k], keeping: zs.lower[k]) { z, rows, plane in
                                resamplePlane(voxels.baseAddress! + z * inputPlane, rows: rows, into: plane)
                            }
                            for index in 0..<outputPlane { out[index] = lower[index] + w * (upper[index] - lower[index]) }
                        } else {
                            out.update(from: lower, count: outputPlane)
                        }
                        for j in 0..<height {
                            let target = out + j * width
                            if !ys.inside[j] {
                                target.update(repeating: fill, count: width)
                                continue
                            }
                            for i in 0..<width where !xs.inside[i] { target[i] = fill }
                        }
                    }
                    planes.deallocate()
                }
            }
        }

        /// Nearest neighbour needs no arithmetic: each output voxel copies one input voxel.
        func gather(xs: AxisMap, ys: AxisMap, zs: AxisMap) -> Volume<Float32> {
            input.voxels.withUnsafeBufferPointer { voxels in
                Volume(size: size, geometry: geometry) { output in
                    let slots = DisjointSlots(output)
                    ParallelLoop.forEach(size.z) { k in
                        for j in 0..<height {
                            let target = slots.base + (k * height + j) * width
                            guard zs.inside[k], ys.inside[j] else {
                                target.update(repeating: fill, count: width)
                                continue
                            }
                            let row = voxels.baseAddress! + zs.lower[k] * inputPlane + ys.lower[j] * inputWidth
                            for i in 0..<width { target[i] = xs.inside[i] ? row[xs.lower[i]] : fill }
                        }
                    }
                }
            }
        }

        /// In-plane resampling of one input slice: along x into `rows` (input height × output width), then along y.
        func resamplePlane(
            _ slice: UnsafePointer<Float32>, rows: UnsafeMutablePointer<Float32>, into plane: UnsafeMutablePointer<Float32>
        ) {
            for y in 0..<inputHeight {
                let row = slice + y * inputWidth, target = rows + y * width
                for i in 0..<width {
                    let a = row[xs.lower[i]], b = row[xs.upper[i]]
                    target[i] = a + xs.weight[i] * (b - a)
                }
            }
            for j in 0..<height {
                let a = rows + ys.lower[j] * width, b = rows + ys.upper[j] * width
                let w = ys.weight[j], target = plane + j * width
                for i in 0..<width { target[i] = a[i] + w * (b[i] - a[i]) }
            }
        }
    }
}

/// The two most recently resampled input planes of one task, keyed by input slice index, and a scratch buffer.
/// Output slices are visited in order, so the planes they need are almost always the last two.
private struct PlaneCache {
    private var slices: (Int, Int) = (-1, -1)
    private let planes: (UnsafeMutablePointer<Float32>, UnsafeMutablePointer<Float32>)
    private let rows: UnsafeMutablePointer<Float32>
    private var next = 0

    init(width: Int, height: Int, inputHeight: Int) {
        planes = (.allocate(capacity: width * height), .allocate(capacity: width * height))
        rows = .allocate(capacity: width * inputHeight)
    }

    /// The resampled plane of input slice `z`, computing it with `make` when it is not cached. The plane of
    /// `keeping` (the other neighbour of the same output slice) is never evicted.
    mutating func plane(
        _ z: Int, keeping: Int = -1, make: (Int, UnsafeMutablePointer<Float32>, UnsafeMutablePointer<Float32>) -> Void
    ) -> UnsafeMutablePointer<Float32> {
        if slices.0 == z { return planes.0 }
        if slices.1 == z { return planes.1 }
        let slot = slices.0 == keeping ? 1 : (slices.1 == keeping ? 0 : next)
        let target = slot == 0 ? planes.0 : planes.1
        make(z, rows, target)
        if slot == 0 { slices.0 = z } else { slices.1 = z }
        next = 1 - slot
        return target
    }

    func deallocate() {
        planes.0.deallocate()
        planes.1.deallocate()
        rows.deallocate()
    }
}
