import Foundation
import HounsfieldCore

/// Cubic B-spline coefficients of a volume, as ITK's `BSplineDecompositionImageFilter` computes them (Unser's
/// recursive prefilter along each axis with mirror boundaries): interpolating these with the cubic B-spline kernel
/// passes exactly through the original voxel values.
enum BSplineCoefficients {
    static let pole = 3.0.squareRoot() - 2
    /// ITK's default tolerance for the causal initialisation: sums stop once |pole|ⁿ < 1e-10.
    static let horizon = Int((log(1e-10) / log(abs(pole))).rounded(.up))

    static func compute(_ volume: Volume<Float32>, axes: Set<Int> = [0, 1, 2]) -> [Float32] {
        compute(volume.voxels, size: volume.size, axes: axes)
    }

    /// Coefficients of raw samples laid out as `size`, filtering only along `axes` (0 = x, 1 = y, 2 = z): a 2-D
    /// spline per slice is `axes: [0, 1]`.
    static func compute(_ samples: [Float32], size n: GridSize, axes: Set<Int>) -> [Float32] {
        var coefficients = samples
        let plane = n.voxelsPerSlice
        coefficients.withUnsafeMutableBufferPointer { buffer in
            let slots = DisjointSlots(buffer)
            // x: each row is a contiguous line. y and z: all x positions of a row are filtered together, so every
            // access runs along contiguous memory instead of striding across the volume.
            if axes.contains(0) {
                ParallelLoop.forEach(n.y * n.z) { line in filter(slots.base + line * n.x, count: n.x, stride: 1, lanes: 1) }
            }
            if axes.contains(1) {
                ParallelLoop.forEach(n.z) { z in filter(slots.base + z * plane, count: n.y, stride: n.x, lanes: n.x) }
            }
            if axes.contains(2) {
                ParallelLoop.forEach(n.y) { y in filter(slots.base + y * n.x, count: n.z, stride: plane, lanes: n.x) }
            }
        }
        return coefficients
    }

    /// Filters `lanes` parallel lines in place: element k of lane i is at `start[k · stride + i]`. In Double.
    private static func filter(_ start: UnsafeMutablePointer<Float32>, count: Int, stride step: Int, lanes: Int) {
        guard count > 1 else { return }
        let z = pole, gain = (1 - z) * (1 - 1 / z)
        var c = [Double](repeating: 0, count: count * lanes)
        c.withUnsafeMutableBufferPointer { c in
            for k in 0..<count {
                for i in 0..<lanes { c[k * lanes + i] = Double(start[k * step + i]) * gain }
            }
            initialCausal(c.baseAddress!, count: count, lanes: lanes, z)
            for k in 1..<count {
                for i in 0..<lanes { c[k * lanes + i] += z * c[(k - 1) * lanes + i] }
            }
            let last = (count - 1) * lanes, previous = (count - 2) * lanes
            for i in 0..<lanes { c[last + i] = (z / (z * z - 1)) * (z * c[previous + i] + c[last + i]) }
            for k in stride(from: count - 2, through: 0, by: -1) {
                for i in 0..<lanes { c[k * lanes + i] = z * (c[(k + 1) * lanes + i] - c[k * lanes + i]) }
            }
            for k in 0..<count {
                for i in 0..<lanes { start[k * step + i] = Float32(c[k * lanes + i]) }
            }
        }
    }

    /// The first causal coefficient of each lane, as ITK computes it: a truncated sum when the line is longer
    /// than the horizon, the exact mirror-boundary sum otherwise.
    private static func initialCausal(_ c: UnsafeMutablePointer<Double>, count: Int, lanes: Int, _ z: Double) {
        for i in 0..<lanes {
            var zn = z
            if horizon < count {
                var sum = c[i]
                for k in 1..<horizon {
                    sum += zn * c[k * lanes + i]
                    zn *= z
                }
                c[i] = sum
                continue
            }
            let iz = 1 / z
            var z2n = pow(z, Double(count - 1))
            var sum = c[i] + z2n * c[(count - 1) * lanes + i]
            z2n *= z2n * iz
            if count > 2 {
                for k in 1...(count - 2) {
                    sum += (zn + z2n) * c[k * lanes + i]
                    zn *= z
                    z2n *= iz
                }
            }
            c[i] = sum / (1 - zn * zn)
        }
    }

    /// Cubic B-spline weights and mirrored indices of the four taps around continuous index `c`, ITK's way.
    static func taps(at c: Double, count: Int) -> (indices: [Int], weights: [Float32]) {
        let base = Int(c.rounded(.down)) - 1
        let w = c - Double(base + 1)
        let w3 = w * w * w / 6
        let w0 = 1.0 / 6 + 0.5 * w * (w - 1) - w3
        let w2 = w + w0 - 2 * w3
        let w1 = 1 - w0 - w2 - w3
        let period = 2 * count - 2
        let indices = (0..<4).map { tap -> Int in
            guard count > 1 else { return 0 }
            var index = base + tap
            index = index < 0 ? -index - period * ((-index) / period) : index - period * (index / period)
            return count <= index ? period - index : index
        }
        return (indices, [w0, w1, w2, w3].map { Float32($0) })
    }
}

extension Volume where Scalar == Float32 {
    /// The voxels padded by `padding` copies of the edge value on each side of the given axes (numpy's
    /// `np.pad(mode="edge")`), and the padded size.
    func edgePadded(by padding: Int, axes: Set<Int>) -> (samples: [Float32], size: GridSize) {
        let pad = (0..<3).map { axes.contains($0) ? padding : 0 }
        let padded = GridSize(x: size.x + 2 * pad[0], y: size.y + 2 * pad[1], z: size.z + 2 * pad[2])
        let source = size
        let samples = voxels.withUnsafeBufferPointer { input in
            [Float32](unsafeUninitializedCapacity: padded.voxelCount) { buffer, count in
                let slots = DisjointSlots(buffer)
                ParallelLoop.forEach(padded.z) { k in
                    let z = min(max(k - pad[2], 0), source.z - 1)
                    for j in 0..<padded.y {
                        let y = min(max(j - pad[1], 0), source.y - 1)
                        let row = input.baseAddress! + (z * source.y + y) * source.x
                        let target = slots.base + (k * padded.y + j) * padded.x
                        for i in 0..<padded.x { (target + i).initialize(to: row[min(max(i - pad[0], 0), source.x - 1)]) }
                    }
                }
                count = padded.voxelCount
            }
        }
        return (samples, padded)
    }
}
