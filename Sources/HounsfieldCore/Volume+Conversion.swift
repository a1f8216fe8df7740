/// Converting a volume's scalar type: the "cast" at the end of a preprocessing chain.
extension Volume {
    /// The same voxels as another scalar type, each `Target(hounsfield: value × scale)`: see `VoxelScalar` for
    /// the rounding and saturation of each type. `scale` lets a [0, 1] window become 0…255 for `UInt8`.
    public func converted<Target: VoxelScalar>(to type: Target.Type, scale: Double = 1) -> Volume<Target> {
        let plane = size.voxelsPerSlice
        return voxels.withUnsafeBufferPointer { input in
            Volume<Target>(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(size.z) { k in
                    Self.convert(UnsafeBufferPointer(rebasing: input[(k * plane)..<((k + 1) * plane)]), scale: scale,
                                 into: slots.base + k * plane)
                }
            }
        }
    }

    /// Converts one run of voxels into uninitialized `output`.
    ///
    /// Callers in other modules (the pipeline's cast, the shard reader) reach `converted` unspecialized, where
    /// every voxel went through protocol witness calls: casting the 1 mm benchmark volume to int16 took 0.25 s,
    /// longer than resampling it. Float32 into each stored type (writing) and each stored type into Float32
    /// (reading) run code specialized here; other pairs run the generic loop. All compute
    /// `Target(hounsfield: value × scale)`, so the values are equal.
    static func convert<Target: VoxelScalar>(
        _ input: UnsafeBufferPointer<Scalar>, scale: Double, into output: UnsafeMutablePointer<Target>
    ) {
        if Scalar.self == Float32.self {
            input.withMemoryRebound(to: Float32.self) { convertFromFloat32($0, scale: scale, into: output) }
        } else if Target.self == Float32.self {
            output.withMemoryRebound(to: Float32.self, capacity: input.count) {
                convertIntoFloat32(input, scale: scale, into: $0)
            }
        } else {
            convertRun(input, scale: scale, into: output)
        }
    }
}

// The dispatch and the loop are free functions: a call with concrete types is then specialized on them alone (in a
// method of the generic `Volume` the loop kept `Volume`'s own parameter and stayed generic).

/// Float32 into each stored type: the pipeline's casts.
private func convertFromFloat32<Target: VoxelScalar>(
    _ input: UnsafeBufferPointer<Float32>, scale: Double, into output: UnsafeMutablePointer<Target>
) {
    let count = input.count
    if Target.self == Int16.self {
        output.withMemoryRebound(to: Int16.self, capacity: count) { convertRun(input, scale: scale, into: $0) }
    } else if Target.self == UInt8.self {
        output.withMemoryRebound(to: UInt8.self, capacity: count) { convertRun(input, scale: scale, into: $0) }
    } else if Target.self == Float32.self {
        output.withMemoryRebound(to: Float32.self, capacity: count) { convertRun(input, scale: scale, into: $0) }
    } else {
        #if !(os(macOS) && arch(x86_64))
        if Target.self == Float16.self {
            output.withMemoryRebound(to: Float16.self, capacity: count) { half in
                if scale == 1 {
                    half.withMemoryRebound(to: UInt16.self, capacity: count) { bits in
                        for index in 0..<count { (bits + index).initialize(to: halfBits(input[index])) }
                    }
                } else {
                    convertRun(input, scale: scale, into: half)
                }
            }
            return
        }
        #endif
        convertRun(input, scale: scale, into: output)
    }
}

/// The bits of `Float16(hounsfield: Double(value))` — NaN stays NaN, ±65504 bounds the range, round to nearest
/// even — computed with integer operations. Without F16C (the generic x86-64 target) Swift converts through a
/// library call per value, which took a sixth of a float16 per-study answer; a Float32 is exactly a Double, so one
/// rounding from Float32 gives the same half as from Double. The rounding is F. Giesen's `float_to_half_fast3_rtne`
/// ("half to float done quic", 2012). Checked against Swift's conversion over all 2³² patterns (docs/decisions.md,
/// decision 59) and on a sample in the tests.
@inline(__always)
func halfBits(_ value: Float32) -> UInt16 {
    #if !(os(macOS) && arch(x86_64))
    if value.isNaN { return Float16.nan.bitPattern }
    #else
    if value.isNaN { return 0x7E00 }
    #endif
    var bits = Swift.max(-65504, Swift.min(65504, value)).bitPattern
    let sign = bits & 0x8000_0000
    bits ^= sign
    let half: UInt32
    if bits < 113 << 23 {
        // Below the smallest normal half: adding 0.5 puts the 10 mantissa bits at the bottom of the float, rounded
        // to nearest even by the addition itself.
        let magic = Float32(bitPattern: 126 << 23)
        half = (Float32(bitPattern: bits) + magic).bitPattern &- magic.bitPattern
    } else {
        // Rebias the exponent (127 → 15) and round to nearest even on the 13 bits dropped.
        let odd = (bits >> 13) & 1
        half = (bits &+ 0xC800_0FFF &+ odd) >> 13
    }
    return UInt16(truncatingIfNeeded: half | (sign >> 16))
}

/// Each stored type into Float32: the shard reader's conversions.
private func convertIntoFloat32<Source: VoxelScalar>(
    _ input: UnsafeBufferPointer<Source>, scale: Double, into output: UnsafeMutablePointer<Float32>
) {
    if Source.self == Int16.self {
        input.withMemoryRebound(to: Int16.self) { convertRun($0, scale: scale, into: output) }
    } else if Source.self == UInt8.self {
        input.withMemoryRebound(to: UInt8.self) { convertRun($0, scale: scale, into: output) }
    } else {
        #if !(os(macOS) && arch(x86_64))
        if Source.self == Float16.self {
            input.withMemoryRebound(to: Float16.self) { convertRun($0, scale: scale, into: output) }
            return
        }
        #endif
        convertRun(input, scale: scale, into: output)
    }
}

/// The conversion loop, `Target(hounsfield: value × scale)` per voxel.
private func convertRun<Source: VoxelScalar, Target: VoxelScalar>(
    _ input: UnsafeBufferPointer<Source>, scale: Double, into output: UnsafeMutablePointer<Target>
) {
    for index in input.indices {
        (output + index).initialize(to: Target(hounsfield: input[index].doubleValue * scale))
    }
}
