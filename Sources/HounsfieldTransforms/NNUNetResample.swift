import HounsfieldCore

/// nnU-Net's resampling of images, by name, so that preprocessing matches a model trained with nnU-Net v2.
///
/// - The new shape is `round(spacing / target × shape)` (round half to even), and voxel centres are spread evenly
///   over the same extent (skimage's `resize`: index `(i + 0.5) · n/n′ − 0.5`), not anchored at the origin as with
///   `Resample`.
/// - Anisotropic data (largest spacing > `anisotropyThreshold` × smallest, in the input or the target): each slice
///   across the coarse axis is resized with a cubic spline, then the coarse axis with nearest neighbour. Otherwise
///   one 3-D cubic spline.
/// - Splines use scipy's edge mode (12 edge samples padded, mirror prefilter), and each resize is clipped to the
///   range of what it resized (a slice, or the volume), as skimage does by default.
/// Labels are resampled with nearest neighbour by default; ``LabelResampling/nnUNet`` resamples them as nnU-Net v2
/// does (each class's mask linearly, in-plane when anisotropic, kept where it reaches one half).
/// The coarse axis must be z (axial acquisitions); reorient first otherwise.
public struct NNUNetResample: VolumeTransform, Hashable, Codable {
    /// The target spacing `[x, y, z]` in mm (nnU-Net's plans list it z first: reverse it).
    public var spacing: [Double]
    /// How many times the smallest spacing the largest must exceed for the data to count as anisotropic (nnU-Net's 3).
    public var anisotropyThreshold: Double
    /// How label maps follow the image.
    public var labelResampling: LabelResampling

    /// How a label map is resampled onto nnU-Net's grid.
    public enum LabelResampling: String, Hashable, Sendable, Codable, CaseIterable {
        /// Nearest neighbour: every voxel keeps a class of the input as it is (the default, and what every other
        /// spatial step does).
        case nearest
        /// nnU-Net v2's `resize_segmentation` with its default order 1: for each class in increasing value, its 0/1
        /// mask is resized linearly (edge mode) and the voxels at ≥ 0.5 take the class, so a higher class wins a tie.
        /// With anisotropic data this runs slice by slice, and the coarse axis is then resampled by nearest neighbour
        /// (nnU-Net's `order_z` 0). Thin structures survive a downsampling that nearest neighbour would break.
        case nnUNet = "nnunet"
    }

    /// Resamples to `spacing` (`[x, y, z]`, mm) the way nnU-Net v2 does.
    public init(spacing: [Double], anisotropyThreshold: Double = 3, labelResampling: LabelResampling = .nearest) {
        self.spacing = spacing
        self.anisotropyThreshold = anisotropyThreshold
        self.labelResampling = labelResampling
    }

    /// `{"type": "nnunet-resample", "spacing": [x, y, z], "anisotropyThreshold": 3}`.
    public var specification: TransformSpecification { .nnUNetResample(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` unless `spacing` is three positive numbers and
    /// the threshold is at least 1.
    public func validate() throws(TransformError) {
        guard spacing.count == 3 else {
            throw .invalidParameter(name: "nnU-Net target spacing", value: "\(spacing)", expected: "three numbers x, y, z")
        }
        for value in spacing { try Check.positive(value, "nnU-Net target spacing") }
        guard anisotropyThreshold.isFinite, anisotropyThreshold >= 1 else {
            throw .invalidParameter(name: "anisotropyThreshold", value: "\(anisotropyThreshold)", expected: "a number ≥ 1")
        }
    }

    /// The output shape, and the coarse axis when the data count as anisotropic (nnU-Net's `get_do_separate_z`
    /// and `get_lowres_axis`: only a single largest axis qualifies).
    public func plan(size: GridSize, spacing current: Vector3) -> (size: GridSize, coarseAxis: Int?) {
        let counts = size.array
        let shape = (0..<3).map { max(1, Int((current[$0] / spacing[$0] * Double(counts[$0])).rounded(.toNearestOrEven))) }
        func coarse(_ values: [Double]) -> Int? {
            guard values.max()! / values.min()! > anisotropyThreshold else { return nil }
            let axes = values.indices.filter { values[$0] == values.max()! }
            return axes.count == 1 ? axes[0] : nil
        }
        let axis = coarse(current.array) ?? coarse(spacing)
        return (GridSize(x: shape[0], y: shape[1], z: shape[2]), axis)
    }

    /// The volume on nnU-Net's grid (returned as is when the shape does not change). Throws when the parameters are
    /// invalid, the volume is empty, or the coarse axis is x or y (reorient with ``Orient`` first).
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try check(volume)
        return resampled(volume, label: false)
    }

    /// The label map on the same grid as the image, by nearest neighbour; throws as ``apply(to:)`` does.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try check(label)
        return resampled(label, label: true)
    }

    /// Every way the transform can fail, checked before any work.
    private func check(_ volume: Volume<Float32>) throws(TransformError) {
        try validate()
        try Check.nonEmpty(volume)
        if let coarseAxis = plan(size: volume.size, spacing: volume.geometry.spacing).coarseAxis, coarseAxis != 2 {
            throw .invalidParameter(
                name: "nnU-Net coarse axis", value: ["x", "y", "z"][coarseAxis],
                expected: "z: reorient the volume (Orient) so the coarse axis is the slice axis")
        }
    }

    private func resampled(_ volume: Volume<Float32>, label: Bool) -> Volume<Float32> {
        let (size, coarseAxis) = plan(size: volume.size, spacing: volume.geometry.spacing)
        guard size != volume.size else { return volume }
        let input = volume.size.array, output = size.array
        let scale = (0..<3).map { Double(input[$0]) / Double(output[$0]) }
        let coordinates = (0..<3).map { axis in (0..<output[axis]).map { (Double($0) + 0.5) * scale[axis] - 0.5 } }
        var geometry = volume.geometry
        geometry.spacing = Vector3(geometry.spacing.x * scale[0], geometry.spacing.y * scale[1], geometry.spacing.z * scale[2])
        geometry.origin = volume.geometry.point(atIndex: Vector3(coordinates[0][0], coordinates[1][0], coordinates[2][0]))

        typealias Map = AxisAlignedResampler.AxisMap
        if label, labelResampling == .nnUNet {
            return Self.resampledByClass(volume, coordinates: coordinates, size: size, geometry: geometry,
                                         separateZ: coarseAxis == 2)
        }
        if label {
            let maps = (0..<3).map { Map(coordinates: coordinates[$0], inputCount: input[$0], kernel: .nearest, edgePadding: 0) }
            return AxisAlignedResampler.combine(samples: volume.voxels, sampleSize: volume.size, xs: maps[0], ys: maps[1],
                                                zs: maps[2], size: size, geometry: geometry, fill: 0)
        }
        let padding = 12
        if coarseAxis == 2 {
            // 1. Each slice in-plane with a 2-D cubic spline, clipped to that slice's range.
            let (padded, paddedSize) = volume.edgePadded(by: padding, axes: [0, 1])
            let coefficients = BSplineCoefficients.compute(padded, size: paddedSize, axes: [0, 1])
            let xs = Map(coordinates: coordinates[0], inputCount: input[0], kernel: .cubic, edgePadding: padding)
            let ys = Map(coordinates: coordinates[1], inputCount: input[1], kernel: .cubic, edgePadding: padding)
            let slices = Map(coordinates: (0..<input[2]).map(Double.init), inputCount: input[2], kernel: .nearest, edgePadding: 0)
            let inPlaneSize = GridSize(x: output[0], y: output[1], z: input[2])
            var inPlane = AxisAlignedResampler.combine(samples: coefficients, sampleSize: paddedSize, xs: xs, ys: ys, zs: slices,
                                                       size: inPlaneSize, geometry: geometry, fill: 0)
            Self.clipSlices(&inPlane, toRangesOf: volume)
            // 2. The coarse axis with nearest neighbour (scipy's map_coordinates, order 0, mode "nearest").
            guard input[2] != output[2] else { inPlane.geometry = geometry; return inPlane }
            let same = { (count: Int) in Map(coordinates: (0..<count).map(Double.init), inputCount: count, kernel: .nearest, edgePadding: 0) }
            let zs = Map(coordinates: coordinates[2], inputCount: input[2], kernel: .nearest, edgePadding: 0)
            return AxisAlignedResampler.combine(samples: inPlane.voxels, sampleSize: inPlaneSize, xs: same(output[0]),
                                                ys: same(output[1]), zs: zs, size: size, geometry: geometry, fill: 0)
        }
        // One 3-D cubic spline over the whole volume, clipped to the volume's range.
        let (padded, paddedSize) = volume.edgePadded(by: padding, axes: [0, 1, 2])
        let coefficients = BSplineCoefficients.compute(padded, size: paddedSize, axes: [0, 1, 2])
        let maps = (0..<3).map { Map(coordinates: coordinates[$0], inputCount: input[$0], kernel: .cubic, edgePadding: padding) }
        var result = AxisAlignedResampler.combine(samples: coefficients, sampleSize: paddedSize, xs: maps[0], ys: maps[1],
                                                  zs: maps[2], size: size, geometry: geometry, fill: 0)
        let statistics = VoxelStatistics(of: volume)
        let (low, high) = (Float32(statistics.minimum), Float32(statistics.maximum))
        result.voxels = result.voxels.map { min(max($0, low), high) }
        return result
    }

    /// skimage clips each resized slice to the range of the slice it came from.
    private static func clipSlices(_ resized: inout Volume<Float32>, toRangesOf original: Volume<Float32>) {
        let inputPlane = original.size.voxelsPerSlice, outputPlane = resized.size.voxelsPerSlice
        original.voxels.withUnsafeBufferPointer { input in
            resized.voxels.withUnsafeMutableBufferPointer { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(original.size.z) { k in
                    let slice = input[(k * inputPlane)..<((k + 1) * inputPlane)]
                    let low = slice.min()!, high = slice.max()!
                    for index in (k * outputPlane)..<((k + 1) * outputPlane) { slots[index] = min(max(slots[index], low), high) }
                }
            }
        }
    }
}

extension NNUNetResample {
    private enum CodingKeys: String, CodingKey { case spacing, anisotropyThreshold, labels }

    /// Decodes from a configuration; `anisotropyThreshold` may be left out (3, nnU-Net's value), and so may `labels`
    /// (`nearest`, or `nnunet` for nnU-Net's label resampling).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(spacing: try container.decode([Double].self, forKey: .spacing),
                  anisotropyThreshold: try container.decodeIfPresent(Double.self, forKey: .anisotropyThreshold) ?? 3,
                  labelResampling: try container.decodeIfPresent(LabelResampling.self, forKey: .labels) ?? .nearest)
    }

    /// `{"spacing": …, "anisotropyThreshold": …}`, plus `"labels": "nnunet"` only when chosen, so the transform key
    /// of a chain that does not resample labels the nnU-Net way stays what it was.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(spacing, forKey: .spacing)
        try container.encode(anisotropyThreshold, forKey: .anisotropyThreshold)
        if labelResampling != .nearest { try container.encode(labelResampling, forKey: .labels) }
    }
}

extension NNUNetResample {
    /// nnU-Net's `resize_segmentation` (order 1) over every class present, then, for anisotropic data, the coarse
    /// axis by nearest neighbour. See ``LabelResampling/nnUNet``.
    static func resampledByClass(
        _ volume: Volume<Float32>, coordinates: [[Double]], size: GridSize, geometry: Geometry, separateZ: Bool
    ) -> Volume<Float32> {
        typealias Map = AxisAlignedResampler.AxisMap
        let input = volume.size.array, output = size.array
        let classes = Set(volume.voxels).sorted()
        let xs = Map(coordinates: coordinates[0], inputCount: input[0], kernel: .linear, edgePadding: 0)
        let ys = Map(coordinates: coordinates[1], inputCount: input[1], kernel: .linear, edgePadding: 0)
        let zs = separateZ
            ? Map(coordinates: (0..<input[2]).map(Double.init), inputCount: input[2], kernel: .nearest, edgePadding: 0)
            : Map(coordinates: coordinates[2], inputCount: input[2], kernel: .linear, edgePadding: 0)
        let stageSize = separateZ ? GridSize(x: output[0], y: output[1], z: input[2]) : size
        var stage = Volume<Float32>(repeating: 0, size: stageSize, geometry: geometry)
        for value in classes {
            let mask = volume.voxels.map { $0 == value ? Float32(1) : 0 }
            let resized = AxisAlignedResampler.combine(samples: mask, sampleSize: volume.size, xs: xs, ys: ys, zs: zs,
                                                       size: stageSize, geometry: geometry, fill: 0)
            for index in resized.voxels.indices {
                var weight = resized.voxels[index]
                // Float32 taps can land a hair either side of one half where scipy, in Double, lands on it or
                // across it: those few voxels are weighed again in Double, so the mask is nnU-Net's to the voxel.
                if abs(weight - 0.5) < 1e-4 {
                    let x = index % stageSize.x, y = (index / stageSize.x) % stageSize.y, z = index / stageSize.voxelsPerSlice
                    weight = exactLinear(mask, size: volume.size, x: coordinates[0][x], y: coordinates[1][y],
                                         z: separateZ ? nil : coordinates[2][z], slice: z) >= 0.5 ? 1 : 0
                }
                if weight >= 0.5 { stage.voxels[index] = value }
            }
        }
        guard separateZ, input[2] != output[2] else {
            stage.geometry = geometry
            return stage
        }
        let same = { (count: Int) in Map(coordinates: (0..<count).map(Double.init), inputCount: count, kernel: .nearest, edgePadding: 0) }
        let slices = Map(coordinates: coordinates[2], inputCount: input[2], kernel: .nearest, edgePadding: 0)
        return AxisAlignedResampler.combine(samples: stage.voxels, sampleSize: stageSize, xs: same(output[0]),
                                            ys: same(output[1]), zs: slices, size: size, geometry: geometry, fill: 0)
    }

    /// Linear interpolation of `mask` at continuous index (x, y, z) in Double, neighbours clamped to the edge
    /// (scipy's mode "nearest"); with `z` nil, bilinear within slice `slice`.
    private static func exactLinear(_ mask: [Float32], size: GridSize, x: Double, y: Double, z: Double?, slice: Int) -> Double {
        func taps(_ c: Double, _ count: Int) -> [(Int, Double)] {
            let base = Int(c.rounded(.down)), w = c - Double(base)
            return [(min(max(base, 0), count - 1), 1 - w), (min(max(base + 1, 0), count - 1), w)]
        }
        let zs = z.map { taps($0, size.z) } ?? [(slice, 1)]
        var sum = 0.0
        for (k, wz) in zs { for (j, wy) in taps(y, size.y) { for (i, wx) in taps(x, size.x) {
            sum += wz * wy * wx * Double(mask[i + size.x * (j + size.y * k)])
        } } }
        return sum
    }
}
