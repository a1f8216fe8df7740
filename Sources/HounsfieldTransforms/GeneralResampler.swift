import HounsfieldCore

/// Resampling onto a grid with another direction (a reference grid in another orientation): every output voxel's
/// centre is mapped into the input's continuous index and interpolated trilinearly (or by nearest neighbour), with
/// ITK's edge rule. Slower than the axis-aligned path, which is used whenever the directions agree.
enum GeneralResampler {
    static func run(
        _ input: Volume<Float32>, size: GridSize, geometry: Geometry, nearest: Bool, fill: Float32
    ) -> Volume<Float32> {
        let source = input.geometry
        let n = input.size
        return input.voxels.withUnsafeBufferPointer { voxels in
            Volume(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(size.z) { k in
                    for j in 0..<size.y {
                        for i in 0..<size.x {
                            let point = geometry.point(atIndex: Vector3(Double(i), Double(j), Double(k)))
                            let c = source.index(ofPoint: point)
                            let offset = (k * size.y + j) * size.x + i
                            guard c.x >= -0.5, c.y >= -0.5, c.z >= -0.5, c.x < Double(n.x) - 0.5,
                                c.y < Double(n.y) - 0.5, c.z < Double(n.z) - 0.5
                            else {
                                slots[offset] = fill
                                continue
                            }
                            if nearest {
                                let x = min(Int((c.x + 0.5).rounded(.down)), n.x - 1)
                                let y = min(Int((c.y + 0.5).rounded(.down)), n.y - 1)
                                let z = min(Int((c.z + 0.5).rounded(.down)), n.z - 1)
                                slots[offset] = voxels[(z * n.y + y) * n.x + x]
                                continue
                            }
                            let base = Vector3(c.x.rounded(.down), c.y.rounded(.down), c.z.rounded(.down))
                            let w = c - base
                            let x0 = min(max(Int(base.x), 0), n.x - 1), x1 = min(max(Int(base.x) + 1, 0), n.x - 1)
                            let y0 = min(max(Int(base.y), 0), n.y - 1), y1 = min(max(Int(base.y) + 1, 0), n.y - 1)
                            let z0 = min(max(Int(base.z), 0), n.z - 1), z1 = min(max(Int(base.z) + 1, 0), n.z - 1)
                            func at(_ x: Int, _ y: Int, _ z: Int) -> Double { Double(voxels[(z * n.y + y) * n.x + x]) }
                            let c00 = at(x0, y0, z0) + w.x * (at(x1, y0, z0) - at(x0, y0, z0))
                            let c10 = at(x0, y1, z0) + w.x * (at(x1, y1, z0) - at(x0, y1, z0))
                            let c01 = at(x0, y0, z1) + w.x * (at(x1, y0, z1) - at(x0, y0, z1))
                            let c11 = at(x0, y1, z1) + w.x * (at(x1, y1, z1) - at(x0, y1, z1))
                            let c0 = c00 + w.y * (c10 - c00), c1 = c01 + w.y * (c11 - c01)
                            slots[offset] = Float32(c0 + w.z * (c1 - c0))
                        }
                    }
                }
            }
        }
    }
}
