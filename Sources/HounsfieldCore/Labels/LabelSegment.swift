/// One class's mask on an image's grid: what a label decoder produces for each SEG segment, RTSTRUCT ROI or NIfTI
/// label value, before the masks are combined into a ``LabelMap``.
///
/// Masks are `UInt8`: 0 or 1 for binary sources; for a FRACTIONAL DICOM SEG, the stored fraction (0…MaximumFractionalValue)
/// so that a reader can threshold it (see ``isFractional``).
public struct LabelSegment: Sendable, Hashable {
    /// The class the mask belongs to.
    public var labelClass: LabelClass
    /// The mask, on the grid of the image it labels (same size and geometry).
    public var mask: Volume<UInt8>
    /// The largest stored value of a fractional mask (MaximumFractionalValue), nil for a binary mask.
    public var maximumFraction: Int?

    /// A binary mask (0/1), or a fractional one when `maximumFraction` is given.
    public init(labelClass: LabelClass, mask: Volume<UInt8>, maximumFraction: Int? = nil) {
        self.labelClass = labelClass
        self.mask = mask
        self.maximumFraction = maximumFraction
    }

    /// Whether the mask holds fractions (0…``maximumFraction``) rather than 0/1.
    public var isFractional: Bool { maximumFraction != nil }

    /// The smallest stored fraction that counts as inside: half of `maximumFraction`, rounded up (≥ 0.5, as
    /// highdicom and dcmqi threshold), and at least 1, so that an invalid maximum of 0 does not make every voxel
    /// inside. Every reader of fractions (``binaryMask``, ``voxelCount``, a SEG decoded straight into a class map)
    /// uses this one rule.
    public static func smallestInside(maximumFraction: Int) -> Int { (max(1, maximumFraction) + 1) / 2 }

    /// The mask as 0/1: a fractional mask is thresholded at half its maximum (``smallestInside(maximumFraction:)``).
    public var binaryMask: Volume<UInt8> {
        guard let maximumFraction else { return mask }
        let inside = Self.smallestInside(maximumFraction: maximumFraction)
        var binary = mask
        for index in binary.voxels.indices { binary.voxels[index] = Int(mask.voxels[index]) >= inside ? 1 : 0 }
        return binary
    }

    /// The number of voxels in the (binary) mask.
    public var voxelCount: Int {
        guard let maximumFraction else { return mask.voxels.reduce(0) { $0 + Int($1 != 0 ? 1 : 0) } }
        let inside = Self.smallestInside(maximumFraction: maximumFraction)
        return mask.voxels.reduce(0) { $0 + (Int($1) >= inside ? 1 : 0) }
    }
}
