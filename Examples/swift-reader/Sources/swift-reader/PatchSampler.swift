import Hounsfield

/// Draws where the next patch or slab comes from: a volume, then a start inside it. A plain value with its own
/// seeded generator, so a run is reproducible and the draws can be tested without reading anything.
struct PatchSampler {
    /// Where to read, (z, y, x) voxels, always inside the volume, and the size the caller pads it to.
    struct Draw {
        var volume: Int
        var start: [Int]
        var size: [Int]
        var paddedSize: [Int]
    }

    let shapes: [[Int]]
    let mode: SamplingOptions.Mode
    let patchSize: [Int]
    let slabSlices: Int
    // Any seeded `RandomNumberGenerator` would do.
    private var generator: SeededGenerator

    /// `shapes` are the volumes' (z, y, x) shapes, as the manifest lists them.
    init(shapes: [[Int]], sampling: SamplingOptions) {
        self.shapes = shapes
        mode = sampling.mode
        patchSize = sampling.patchSize
        slabSlices = sampling.slabSlices
        generator = SeededGenerator(seed: sampling.seed)
    }

    mutating func next() -> Draw {
        let volume = Int.random(in: 0..<shapes.count, using: &generator)
        let shape = shapes[volume]
        // A slab keeps whole slices, so its in-plane size is the volume's own.
        let wanted = mode == .patch ? patchSize : [slabSlices, shape[1], shape[2]]
        // Read what fits; the caller pads the rest, so every patch of a batch has the same shape.
        let size = zip(wanted, shape).map { min($0, $1) }
        let start = zip(shape, size).map { Int.random(in: 0...($0 - $1), using: &generator) }
        return Draw(volume: volume, start: start, size: size, paddedSize: wanted)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast and seeded, so a run's draws can be repeated.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
