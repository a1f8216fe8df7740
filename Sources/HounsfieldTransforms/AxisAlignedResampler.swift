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

        return input.voxels.withUnsafeBufferPointer { voxels in
            Volume(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(size.z) { k in
                    let out = slots.base + k * outputPlane
                    guard zs.inside[k] else {
                        out.update(repeating: fill, count: outputPlane)
                        return
                    }
                    var rows = [Float32](repeating: 0, count: inputHeight * width)
                    /// In-plane resampling of input slice z into `plane` (width × height).
                    func resamplePlane(_ z: Int, into plane: UnsafeMutablePointer<Float32>) {
                        let slice = voxels.baseAddress! + z * inputPlane
                        rows.withUnsafeMutableBufferPointer { rows in
                            for y in 0..<inputHeight {
                                let row = slice + y * inputWidth, target = rows.baseAddress! + y * width
                                for i in 0..<width {
                                    let a = row[xs.lower[i]], b = row[xs.upper[i]]
                                    target[i] = a + xs.weight[i] * (b - a)
                                }
                            }
                            for j in 0..<height {
                                let a = rows.baseAddress! + ys.lower[j] * width, b = rows.baseAddress! + ys.upper[j] * width
                                let w = ys.weight[j], target = plane + j * width
                                for i in 0..<width { target[i] = a[i] + w * (b[i] - a[i]) }
                            }
                        }
                    }
                    resamplePlane(zs.lower[k], into: out)
                    let w = zs.weight[k]
                    if w != 0 && zs.upper[k] != zs.lower[k] {
                        var upper = [Float32](repeating: 0, count: outputPlane)
                        upper.withUnsafeMutableBufferPointer { upper in
                            resamplePlane(zs.upper[k], into: upper.baseAddress!)
                            for index in 0..<outputPlane { out[index] += w * (upper[index] - out[index]) }
                        }
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
            }
        }
    }
}
