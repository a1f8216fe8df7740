import Foundation
import HounsfieldCore

/// Cubic B-spline coefficients of a volume, as ITK's `BSplineDecompositionImageFilter` computes them (Unser's
/// recursive prefilter along each axis with mirror boundaries): interpolating these with the cubic B-spline kernel
/// passes exactly through the original voxel values.
enum BSplineCoefficients {
    static let pole = 3.0.squareRoot() - 2
    /// ITK's default tolerance for the causal initialisation: sums stop once |pole|ⁿ < 1e-10.
    static let horizon = Int((log(1e-10) / log(abs(pole))).rounded(.up))

    static func compute(_ volume: Volume<Float32>) -> [Float32] {
        var coefficients = volume.voxels
        let n = volume.size, plane = n.sliceCount
        coefficients.withUnsafeMutableBufferPointer { buffer in
            let slots = DisjointSlots(buffer)
            // x: each row is a contiguous line. y and z: all x positions of a row are filtered together, so every
            // access runs along contiguous memory instead of striding across the volume.
            ParallelLoop.forEach(n.y * n.z) { line in filter(slots.base + line * n.x, count: n.x, stride: 1, lanes: 1) }
            ParallelLoop.forEach(n.z) { z in filter(slots.base + z * plane, count: n.y, stride: n.x, lanes: n.x) }
            ParallelLoop.forEach(n.y) { y in filter(slots.base + y * n.x, count: n.z, stride: plane, lanes: n.x) }
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
