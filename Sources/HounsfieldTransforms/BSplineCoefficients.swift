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
        let n = volume.size
        coefficients.withUnsafeMutableBufferPointer { buffer in
            let slots = DisjointSlots(buffer)
            // Along x (contiguous lines), then y, then z; lines of one axis are independent.
            ParallelLoop.forEach(n.y * n.z) { line in filter(slots.base + line * n.x, count: n.x, stride: 1) }
            ParallelLoop.forEach(n.z) { z in
                for x in 0..<n.x { filter(slots.base + z * n.x * n.y + x, count: n.y, stride: n.x) }
            }
            ParallelLoop.forEach(n.y) { y in
                for x in 0..<n.x { filter(slots.base + y * n.x + x, count: n.z, stride: n.x * n.y) }
            }
        }
        return coefficients
    }

    /// One line, in place, in Double.
    private static func filter(_ start: UnsafeMutablePointer<Float32>, count: Int, stride step: Int) {
        guard count > 1 else { return }
        let z = pole
        var c = (0..<count).map { Double(start[$0 * step]) * (1 - z) * (1 - 1 / z) }
        c[0] = initialCausal(c, z)
        for k in 1..<count { c[k] += z * c[k - 1] }
        c[count - 1] = (z / (z * z - 1)) * (z * c[count - 2] + c[count - 1])
        for k in stride(from: count - 2, through: 0, by: -1) { c[k] = z * (c[k + 1] - c[k]) }
        for k in 0..<count { start[k * step] = Float32(c[k]) }
    }

    private static func initialCausal(_ c: [Double], _ z: Double) -> Double {
        let count = c.count
        var zn = z
        if horizon < count {
            var sum = c[0]
            for k in 1..<horizon {
                sum += zn * c[k]
                zn *= z
            }
            return sum
        }
        let iz = 1 / z
        var z2n = pow(z, Double(count - 1))
        var sum = c[0] + z2n * c[count - 1]
        z2n *= z2n * iz
        if count > 2 {
            for k in 1...(count - 2) {
                sum += (zn + z2n) * c[k]
                zn *= z
                z2n *= iz
            }
        }
        return sum / (1 - zn * zn)
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
