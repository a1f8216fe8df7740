/// The labels of one image, on its grid, as training code reads them: one class value per voxel, or one channel per
/// class when classes overlap.
///
/// A label map cannot hold a voxel in two classes (a BODY contour around the organs, the overlapping segments of a
/// DICOM SEG), so ``init(segments:)`` chooses the layout from the data: ``Layout/classIndex`` when no voxel is in
/// two classes, ``Layout/channels`` otherwise. An overlap is never dropped silently.
public struct LabelMap: Sendable, Hashable {
    /// How the classes are stored.
    public enum Layout: String, Sendable, Hashable, Codable {
        /// One volume of class values (0 background); the element type is UInt8 when every value fits, else UInt16.
        case classIndex = "class_index"
        /// One binary volume per class, in the order of ``LabelMap/classes``: shape `(C, z, y, x)` in a shard.
        case channels
    }

    /// The classes, in increasing value.
    public let classes: [LabelClass]
    /// The chosen layout.
    public let layout: Layout
    /// The class values, for ``Layout/classIndex`` (empty for channels).
    public let values: Volume<UInt16>?
    /// One 0/1 mask per class, for ``Layout/channels``.
    public let channels: [Volume<UInt8>]
    /// Voxels per class value (a voxel in two classes counts for both).
    public let voxelCounts: [Int: Int]
    /// Voxels that lie in more than one class (0 for the class-index layout).
    public let overlappingVoxels: Int

    /// The grid of the map.
    public var size: GridSize { values?.size ?? channels[0].size }
    /// The geometry of the map.
    public var geometry: Geometry { values?.geometry ?? channels[0].geometry }
    /// The largest value a voxel may hold: the largest class value, or a value found on the grid without a class.
    public var largestValue: Int { max(classes.map(\.value).max() ?? 0, voxelCounts.keys.max() ?? 0) }
    /// Whether the class-index map needs two bytes a voxel (a value above 255): it is stored as UInt16 then, as
    /// UInt8 otherwise, so the common case of a few hundred classes or fewer costs one byte.
    public var needsTwoBytes: Bool { layout == .classIndex && largestValue > 255 }

    /// Combines binary masks (fractional ones are thresholded at half) on one grid. Throws when the masks are on
    /// different grids, a class value is not in 1…65535, or two segments share a value.
    public init(segments: [LabelSegment]) throws(LabelMapError) {
        guard let first = segments.first else { throw .empty }
        let sorted = segments.sorted { $0.labelClass.value < $1.labelClass.value }
        var seen = Set<Int>()
        for segment in sorted {
            let value = segment.labelClass.value
            guard (1...65535).contains(value) else { throw .valueOutOfRange(segment.labelClass) }
            guard seen.insert(value).inserted else { throw .duplicateValue(value) }
            guard segment.mask.size == first.mask.size, segment.mask.geometry == first.mask.geometry else {
                throw .differentGrids(segment.labelClass)
            }
        }
        let masks = sorted.map(\.binaryMask)
        var combined = [UInt16](repeating: 0, count: first.mask.size.voxelCount)
        var counts: [Int: Int] = [:]
        var overlaps = 0
        for (segment, mask) in zip(sorted, masks) {
            let value = UInt16(segment.labelClass.value)
            var count = 0
            for index in mask.voxels.indices where mask.voxels[index] != 0 {
                count += 1
                if combined[index] == 0 { combined[index] = value } else { overlaps += 1 }
            }
            counts[segment.labelClass.value] = count
        }
        classes = sorted.map(\.labelClass)
        voxelCounts = counts
        if overlaps == 0 {
            layout = .classIndex
            values = Volume(voxels: combined, size: first.mask.size, geometry: first.mask.geometry)
            channels = []
            overlappingVoxels = 0
        } else {
            layout = .channels
            values = nil
            channels = masks
            // A voxel counted once per extra class it belongs to; recount voxels, not memberships.
            var multi = 0
            var memberships = [UInt8](repeating: 0, count: combined.count)
            for mask in masks { for index in mask.voxels.indices where mask.voxels[index] != 0 { memberships[index] &+= 1 } }
            for count in memberships where count > 1 { multi += 1 }
            overlappingVoxels = multi
        }
    }
}

extension LabelMap {
    /// A class-index map as it stands after a spatial transform (nearest neighbour keeps it a class index): the
    /// voxel counts are taken again on its grid. Values with no class are counted under their value too.
    public init(classIndex values: Volume<UInt16>, classes: [LabelClass]) {
        var counts: [Int: Int] = Dictionary(uniqueKeysWithValues: classes.map { ($0.value, 0) })
        for value in values.voxels where value != 0 { counts[Int(value), default: 0] += 1 }
        self.init(classes: classes.sorted { $0.value < $1.value }, layout: .classIndex, values: values, channels: [],
                  voxelCounts: counts, overlappingVoxels: 0)
    }

    /// Channels (one 0/1 mask per class, in the order of `classes` by value) as they stand after a transform.
    public init(channels: [Volume<UInt8>], classes: [LabelClass]) {
        let sorted = classes.sorted { $0.value < $1.value }
        precondition(channels.count == sorted.count && !channels.isEmpty, "one channel per class")
        var counts: [Int: Int] = [:]
        var memberships = [UInt8](repeating: 0, count: channels[0].voxels.count)
        for (labelClass, channel) in zip(sorted, channels) {
            var count = 0
            for index in channel.voxels.indices where channel.voxels[index] != 0 {
                count += 1
                memberships[index] &+= 1
            }
            counts[labelClass.value] = count
        }
        self.init(classes: sorted, layout: .channels, values: nil, channels: channels, voxelCounts: counts,
                  overlappingVoxels: memberships.reduce(0) { $0 + ($1 > 1 ? 1 : 0) })
    }

    private init(classes: [LabelClass], layout: Layout, values: Volume<UInt16>?, channels: [Volume<UInt8>],
                 voxelCounts: [Int: Int], overlappingVoxels: Int) {
        self.classes = classes
        self.layout = layout
        self.values = values
        self.channels = channels
        self.voxelCounts = voxelCounts
        self.overlappingVoxels = overlappingVoxels
    }
}

/// Why masks could not be combined into a ``LabelMap``.
public enum LabelMapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No segment at all.
    case empty
    /// A class value outside 1…65535.
    case valueOutOfRange(LabelClass)
    /// Two segments with the same value.
    case duplicateValue(Int)
    /// A mask not on the first mask's grid.
    case differentGrids(LabelClass)

    public var description: String {
        switch self {
        case .empty: "the label object has no segment to combine"
        case .valueOutOfRange(let labelClass):
            "class '\(labelClass.name)' has value \(labelClass.value); label values must be 1…65535 (0 is background)"
        case .duplicateValue(let value): "two classes share the value \(value); each class needs its own value"
        case .differentGrids(let labelClass):
            "the mask of class '\(labelClass.name)' is on a different grid from the others; masks must share the image's grid"
        }
    }
}
