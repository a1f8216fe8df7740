import HounsfieldCore

/// A box of voxels in an input grid: where a crop starts and how large it is. Negative starts and sizes beyond
/// the input mean padding. The output geometry places the box in patient space, so predictions made on the
/// cropped volume map back exactly with `Resample(to: .reference(originalGeometry, size: originalSize))`.
public struct CropBox: Hashable, Sendable, Codable {
    /// The input voxel at the box's first corner, `[x, y, z]`; negative values pad before the input.
    public var start: [Int]
    /// Voxels in the box along `[x, y, z]`; the box may run past the input's end, which pads.
    public var size: [Int]

    /// A box of `size` voxels from `start`; both must have three elements (``extract(from:fill:)`` traps otherwise).
    public init(start: [Int], size: [Int]) {
        self.start = start
        self.size = size
    }

    /// Copies the box out of `volume`; voxels outside the input get `fill`.
    public func extract(from volume: Volume<Float32>, fill: Float32) -> Volume<Float32> {
        let output = GridSize(x: size[0], y: size[1], z: size[2])
        let geometry = Geometry(
            origin: volume.geometry.point(atIndex: Vector3(Double(start[0]), Double(start[1]), Double(start[2]))),
            spacing: volume.geometry.spacing, direction: volume.geometry.direction)
        let n = volume.size
        return volume.voxels.withUnsafeBufferPointer { input in
            Volume(size: output, geometry: geometry) { buffer in
                let slots = DisjointSlots(buffer)
                ParallelLoop.forEach(output.z) { k in
                    let z = k + start[2]
                    for j in 0..<output.y {
                        let y = j + start[1], row = (k * output.y + j) * output.x
                        guard z >= 0, z < n.z, y >= 0, y < n.y else {
                            (slots.base + row).update(repeating: fill, count: output.x)
                            continue
                        }
                        for i in 0..<output.x {
                            let x = i + start[0]
                            slots[row + i] = x >= 0 && x < n.x ? input[(z * n.y + y) * n.x + x] : fill
                        }
                    }
                }
            }
        }
    }
}

/// Crops or pads each axis to a size, centred (MONAI's `ResizeWithPadOrCrop`, TorchIO's `CropOrPad`). Padding is
/// air (−1024 HU) for images and 0 for labels. When the difference is odd, the extra voxel goes to the end.
public struct CropOrPad: VolumeTransform, Hashable, Codable {
    /// The output size `[x, y, z]`, in voxels.
    public var size: [Int]
    /// The value written where the output pads the input (HU; −1024, air, by default). Labels always pad with 0.
    public var fill: Double

    /// Crops or pads to `size`, padding images with `fill`.
    public init(size: GridSize, fill: Double = -1024) {
        self.size = size.array
        self.fill = fill
    }

    /// `{"type": "crop-or-pad", "size": [x, y, z], "fill": …}`.
    public var specification: TransformSpecification { .cropOrPad(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` unless `size` is three positive integers and
    /// `fill` is finite.
    public func validate() throws(TransformError) {
        guard size.count == 3, size.allSatisfy({ $0 > 0 }) else {
            throw .invalidParameter(name: "crop/pad size", value: "\(size)", expected: "three positive integers")
        }
        try Check.finite(fill, "crop/pad fill")
    }

    /// The centred box for an input of `input` voxels.
    public func box(for input: GridSize) -> CropBox {
        let inputSizes = input.array
        return CropBox(start: (0..<3).map { (inputSizes[$0] - size[$0]) / 2 }, size: size)
    }

    /// The centred box of `volume`, with the origin moved so every kept voxel stays where it was in patient space.
    /// Throws when the parameters are invalid or the volume is empty.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try validate()
        try Check.nonEmpty(volume)
        return box(for: volume.size).extract(from: volume, fill: Float32(fill))
    }

    /// The same box of a label map, padded with 0 (background).
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try validate()
        return box(for: label.size).extract(from: label, fill: 0)
    }
}

/// Crops to the bounding box of the body: voxels above `threshold` HU (default −500, halfway between air at −1000
/// and water at 0; MONAI's `CropForeground` assumes a background of 0, which is wrong for CT), plus `margin`
/// voxels on every side. The label is cropped with the box found in the image (`apply(to:label:)`). It thresholds
/// HU, so it belongs before windowing or normalization in a chain.
public struct CropToForeground: VolumeTransform, Hashable, Codable {
    /// Voxels above this value, in HU, are the body (default −500).
    public var threshold: Double
    /// Voxels kept around the body on every side (clipped to the volume).
    public var margin: Int

    /// Crops to the voxels above `threshold` HU, with `margin` voxels around them.
    public init(threshold: Double = -500, margin: Int = 0) {
        self.threshold = threshold
        self.margin = margin
    }

    /// `{"type": "crop-to-foreground", "threshold": …, "margin": …}`.
    public var specification: TransformSpecification { .cropToForeground(self) }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` unless `threshold` is finite and `margin` is 0
    /// or more.
    public func validate() throws(TransformError) {
        try Check.finite(threshold, "foreground threshold")
        guard margin >= 0 else { throw .invalidParameter(name: "foreground margin", value: "\(margin)", expected: "0 or more voxels") }
    }

    /// The box around every voxel above the threshold (with the margin, clipped to the volume); the whole volume
    /// when nothing is above it.
    public func box(for volume: Volume<Float32>) -> CropBox {
        let n = volume.size, threshold = Float32(threshold)
        let perSlice = volume.voxels.withUnsafeBufferPointer { voxels in
            ParallelLoop.map(n.z) { k -> (low: [Int], high: [Int])? in
                var low = [Int.max, Int.max], high = [-1, -1]
                for j in 0..<n.y {
                    let row = (k * n.y + j) * n.x
                    for i in 0..<n.x where voxels[row + i] > threshold {
                        low = [min(low[0], i), min(low[1], j)]
                        high = [max(high[0], i), max(high[1], j)]
                    }
                }
                return high[0] < 0 ? nil : (low, high)
            }
        }
        let slices = perSlice.enumerated().compactMap { $0.element == nil ? nil : $0.offset }
        guard let first = slices.first, let last = slices.last else {
            return CropBox(start: [0, 0, 0], size: n.array)
        }
        let found = perSlice.compactMap { $0 }
        let low = [found.map { $0.low[0] }.min()!, found.map { $0.low[1] }.min()!, first]
        let high = [found.map { $0.high[0] }.max()!, found.map { $0.high[1] }.max()!, last]
        let sizes = n.array
        let start = (0..<3).map { max(0, low[$0] - margin) }
        let end = (0..<3).map { min(sizes[$0] - 1, high[$0] + margin) }
        return CropBox(start: start, size: (0..<3).map { end[$0] - start[$0] + 1 })
    }

    /// The volume cropped to ``box(for:)``, origin moved so voxels stay where they were. Throws when the parameters are
    /// invalid or the volume is empty.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try validate()
        try Check.nonEmpty(volume)
        return box(for: volume).extract(from: volume, fill: -1024)
    }

    /// A label alone has no intensities to find the body in: crop image and label together.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        throw .invalidParameter(
            name: "cropToForeground", value: "applied to a label alone",
            expected: "applied with its image: apply(to: image, label: label)")
    }

    /// Crops image and labels with the box found in the image. Throws
    /// ``TransformError/invalidParameter(name:value:expected:)`` when a label's size differs from the image's.
    public func apply(
        to image: Volume<Float32>, labels: [Volume<Float32>]
    ) throws(TransformError) -> (image: Volume<Float32>, labels: [Volume<Float32>]) {
        try validate()
        try Check.nonEmpty(image)
        for label in labels where label.size != image.size {
            throw .invalidParameter(name: "label size", value: "\(label.size)", expected: "the image's size \(image.size)")
        }
        let box = box(for: image)
        return (box.extract(from: image, fill: -1024), labels.map { box.extract(from: $0, fill: 0) })
    }

    /// Yes: the box comes from the image.
    public var labelsNeedImage: Bool { true }
}

extension CropOrPad {
    /// Decodes from a configuration; `fill` may be left out (−1024, air).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        size = try container.decode([Int].self, forKey: .size)
        fill = try container.decodeIfPresent(Double.self, forKey: .fill) ?? -1024
    }
}

extension CropToForeground {
    /// Decodes from a configuration; `threshold` (−500 HU) and `margin` (0) may be left out.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(threshold: try container.decodeIfPresent(Double.self, forKey: .threshold) ?? -500,
                  margin: try container.decodeIfPresent(Int.self, forKey: .margin) ?? 0)
    }
}
