import HounsfieldCore

/// Applies a function to every voxel, slab by slab on all cores; geometry is unchanged.
enum PointwiseMap {
    /// `transform` is inlined into the loop (non-escaping, specialized per call site): an opaque closure call per
    /// voxel halves the throughput.
    @inline(__always)
    static func apply(_ volume: Volume<Float32>, _ transform: (Float32) -> Float32) -> Volume<Float32> {
        let plane = volume.size.voxelsPerSlice
        return volume.voxels.withUnsafeBufferPointer { input in
            Volume(size: volume.size, geometry: volume.geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(volume.size.z) { k in
                    for index in (k * plane)..<((k + 1) * plane) { slots[index] = transform(input[index]) }
                }
            }
        }
    }

    /// The same, writing over the input: no new memory is touched (first-touch page faults cost as much as the
    /// arithmetic here), and a pipeline holds one volume less. Copies first only if the voxels are shared.
    ///
    /// The loop is written out again on purpose: sharing one loop with `apply(_:_:)` (input and output as two
    /// pointers into the same memory) made this path twice as slow (ordo-one "window in place": 110 → 220 ms),
    /// because the compiler then has to assume the two may overlap.
    @inline(__always)
    static func apply(inPlace volume: inout Volume<Float32>, _ transform: (Float32) -> Float32) {
        let plane = volume.size.voxelsPerSlice, slices = volume.size.z
        volume.voxels.withUnsafeMutableBufferPointer { buffer in
            let slots = DisjointSlots(buffer)
            ParallelLoop.forEach(slices) { k in
                for index in (k * plane)..<((k + 1) * plane) { slots[index] = transform(slots[index]) }
            }
        }
    }
}
