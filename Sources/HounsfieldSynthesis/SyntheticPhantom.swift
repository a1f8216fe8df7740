import Foundation
import HounsfieldCore
import HounsfieldDICOM

/// A body-like CT phantom defined in patient space (LPS, mm), so it can be sampled on any grid — tilted slices
/// included — and the sampled values are known exactly for tests.
///
/// Air outside; an elliptical trunk of soft tissue with a fat rim; two lungs; a vertebra with cortical shell; a
/// table below the patient; deterministic noise. Values are integers in HU.
public struct SyntheticPhantom: Sendable {
    /// Half-extent of the field of view, in mm: the trunk fits inside it.
    public var radius: Double
    /// z range (mm) over which the lungs exist.
    public var lungRange: ClosedRange<Double>
    /// Seeds the noise: the same seed gives the same values at the same point.
    public var seed: UInt64

    /// A phantom whose trunk fits in `radius` mm, with lungs over the z range `lungRange` (mm).
    public init(radius: Double, lungRange: ClosedRange<Double>, seed: UInt64 = 1) {
        self.radius = radius
        self.lungRange = lungRange
        self.seed = seed
    }

    /// The HU value at a point (integer, in the range a scanner produces).
    public func hounsfield(at p: Vector3) -> Int {
        let noise = Self.noise(p, seed: seed)
        let x = p.x / radius, y = p.y / radius
        // Table: a slab below (posterior to) the patient.
        if y > 0.78 && y < 0.86 && abs(x) < 0.9 { return 200 + noise / 4 }
        let trunk = (x / 0.82) * (x / 0.82) + (y / 0.62) * (y / 0.62)
        if trunk > 1 { return -1000 + noise / 8 }
        if trunk > 0.86 { return -100 + noise / 2 }
        // Vertebra, posterior midline.
        let vx = x, vy = y - 0.38
        let vertebra = (vx * vx + vy * vy).squareRoot()
        if vertebra < 0.11 { return vertebra > 0.085 ? 900 + noise : 250 + noise / 2 }
        if lungRange.contains(p.z) {
            for side in [-1.0, 1.0] {
                let lx = (x - side * 0.38) / 0.28, ly = (y + 0.02) / 0.42
                if lx * lx + ly * ly < 1 { return -850 + noise }
            }
        }
        return 40 + noise / 2
    }

    /// Deterministic noise in about ±20 HU, a function of position only (so any grid sees the same field).
    static func noise(_ p: Vector3, seed: UInt64) -> Int {
        var h = seed &* 0x9E37_79B9_7F4A_7C15
        for component in [p.x, p.y, p.z] {
            h ^= UInt64(bitPattern: Int64((component * 8).rounded()))
            h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        }
        h ^= h >> 29
        return Int(h % 41) - 20
    }
}
