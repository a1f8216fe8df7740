import HounsfieldCore

/// A NIfTI label map put on another image's grid (for example its DICOM CT): the class values there, and how well
/// the two grids lined up.
///
/// Each target voxel centre is carried through patient space (LPS) to the label map's continuous index and takes
/// the value of the nearest label voxel (ITK's nearest neighbour: `floor(index + 0.5)`); centres outside the label
/// map are background. When the grids coincide up to axis flips or permutations (TotalSegmentator's LAS label map on
/// its LPS DICOM series), every centre lands on a label voxel centre and the placement is exact:
/// ``maximumIndexOffset`` is then ~0.
public struct NIfTILabelPlacement: Sendable, Hashable {
    /// The class values on the target grid (0 background).
    public var values: Volume<UInt16>
    /// Target voxels whose centre fell outside the label map (set to background).
    public var voxelsOutside: Int
    /// The largest distance, in label-map voxels along any axis, between a target centre and the label voxel centre
    /// it took: ~0 when the grids coincide, up to 0.5 when they do not.
    public var maximumIndexOffset: Double

    /// Places `labels` (class values on their own grid) on the grid `size` × `geometry`.
    public init(labels: Volume<UInt16>, onto size: GridSize, geometry: Geometry) {
        let source = labels.geometry
        let origin = source.index(ofPoint: geometry.point(atIndex: .zero))
        let stepX = source.index(ofPoint: geometry.point(atIndex: [1, 0, 0])) - origin
        let stepY = source.index(ofPoint: geometry.point(atIndex: [0, 1, 0])) - origin
        let stepZ = source.index(ofPoint: geometry.point(atIndex: [0, 0, 1])) - origin
        let n = labels.size
        var outside = 0
        var worst = 0.0
        let placed = Volume<UInt16>(size: size, geometry: geometry) { output in
            labels.voxels.withUnsafeBufferPointer { input in
                var offset = 0
                for k in 0..<size.z {
                    for j in 0..<size.y {
                        let row = origin + stepZ * Double(k) + stepY * Double(j)
                        for i in 0..<size.x {
                            let continuous = row + stepX * Double(i)
                            let nearest = (continuous + 0.5).rounded(.down)
                            let (x, y, z) = (Int(exactly: nearest.x), Int(exactly: nearest.y), Int(exactly: nearest.z))
                            if let x, let y, let z,
                               (0..<n.x).contains(x), (0..<n.y).contains(y), (0..<n.z).contains(z) {
                                output[offset] = input[x + n.x * (y + n.y * z)]
                                let distance = continuous - nearest
                                let largest = Swift.max(abs(distance.x), abs(distance.y), abs(distance.z))
                                worst = Swift.max(worst, largest)
                            } else {
                                output[offset] = 0
                                outside += 1
                            }
                            offset += 1
                        }
                    }
                }
            }
        }
        values = placed
        voxelsOutside = outside
        maximumIndexOffset = worst
    }

    /// Voxels per class value present (background included, under 0).
    public var voxelCounts: [Int: Int] {
        var counts = [Int](repeating: 0, count: 65536)
        for value in values.voxels { counts[Int(value)] += 1 }
        var result: [Int: Int] = [:]
        for (value, count) in counts.enumerated() where count > 0 { result[value] = count }
        return result
    }

    /// One binary mask per class value present (background excluded), in increasing value: what ``LabelMap`` and
    /// the shard writer take. A value's name is `names[value]`, else "label N".
    public func segments(names: [Int: String] = [:]) -> [LabelSegment] {
        let present = voxelCounts.keys.filter { $0 != 0 }.sorted()
        guard !present.isEmpty else { return [] }
        var slot = [Int](repeating: -1, count: 65536)
        for (index, value) in present.enumerated() { slot[value] = index }
        var masks = [[UInt8]](repeating: [UInt8](repeating: 0, count: values.size.voxelCount), count: present.count)
        for (offset, value) in values.voxels.enumerated() where value != 0 {
            masks[slot[Int(value)]][offset] = 1
        }
        return zip(present, masks).map { value, mask in
            LabelSegment(
                labelClass: LabelClass(value: value, name: names[value] ?? "label \(value)"),
                mask: Volume(voxels: mask, size: values.size, geometry: values.geometry))
        }
    }
}

extension NIfTIImage {
    /// The label names this file carries in a label-table extension (empty when it has none).
    public var labelNames: [Int: String] { NIfTILabelTable.names(in: header.extensions) }

    /// Volume `index` of this label map placed on the grid `size` × `geometry` (nearest neighbour through patient
    /// space; see ``NIfTILabelPlacement``). Throws when a value is not a class value (0…65535 integers).
    public func labelPlacement(onto size: GridSize, geometry: Geometry, volume index: Int = 0)
        throws(NIfTIError) -> NIfTILabelPlacement
    {
        NIfTILabelPlacement(labels: try labelValues(index), onto: size, geometry: geometry)
    }

    /// One ``LabelSegment`` per class value present, on the grid `size` × `geometry`: the label map's classes as the
    /// image's label decoders produce them. Names come from the file's label table, then `fallbackNames` (for
    /// example ``NNUNetDatasetDescription/labelNames`` from an nnU-Net `dataset.json`), then "label N".
    public func labelSegments(
        onto size: GridSize, geometry: Geometry, fallbackNames: [Int: String] = [:], volume index: Int = 0
    ) throws(NIfTIError) -> [LabelSegment] {
        let names = labelNames.merging(fallbackNames) { own, _ in own }
        return try labelPlacement(onto: size, geometry: geometry, volume: index).segments(names: names)
    }
}
