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
        guard Scalar.self == Float32.self else {
            guard Target.self == Float32.self else { return convertRun(input, scale: scale, into: output) }
            output.withMemoryRebound(to: Float32.self, capacity: input.count) { output in
                if Scalar.self == Int16.self {
                    input.withMemoryRebound(to: Int16.self) { convertRun($0, scale: scale, into: output) }
                } else if Scalar.self == UInt8.self {
                    input.withMemoryRebound(to: UInt8.self) { convertRun($0, scale: scale, into: output) }
                } else {
                    #if !(os(macOS) && arch(x86_64))
                    if Scalar.self == Float16.self {
                        input.withMemoryRebound(to: Float16.self) { convertRun($0, scale: scale, into: output) }
                        return
                    }
                    #endif
                    convertRun(input, scale: scale, into: output)
                }
            }
            return
        }
        input.withMemoryRebound(to: Float32.self) { input in
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
                    output.withMemoryRebound(to: Float16.self, capacity: count) { convertRun(input, scale: scale, into: $0) }
                    return
                }
                #endif
                convertRun(input, scale: scale, into: output)
            }
        }
    }
}

/// The conversion loop, outside `Volume` so that a call with concrete types is specialized on them alone (inside
/// the generic extension it kept `Volume`'s own parameter and stayed generic).
private func convertRun<Source: VoxelScalar, Target: VoxelScalar>(
    _ input: UnsafeBufferPointer<Source>, scale: Double, into output: UnsafeMutablePointer<Target>
) {
    for index in input.indices {
        (output + index).initialize(to: Target(hounsfield: input[index].doubleValue * scale))
    }
}
