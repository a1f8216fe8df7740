import HounsfieldCore

/// Applies a function to every voxel, slab by slab on all cores; geometry is unchanged.
enum PointwiseMap {
    static func apply(_ volume: Volume<Float32>, _ transform: @escaping (Float32) -> Float32) -> Volume<Float32> {
        let plane = volume.size.sliceCount
        return volume.voxels.withUnsafeBufferPointer { input in
            Volume(size: volume.size, geometry: volume.geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(volume.size.z) { k in
                    for index in (k * plane)..<((k + 1) * plane) { slots[index] = transform(input[index]) }
                }
            }
        }
    }
}
