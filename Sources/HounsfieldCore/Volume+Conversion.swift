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
                    for index in (k * plane)..<((k + 1) * plane) {
                        (slots.base + index).initialize(to: Target(hounsfield: input[index].doubleValue * scale))
                    }
                }
            }
        }
    }
}
