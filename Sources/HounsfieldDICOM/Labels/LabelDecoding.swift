import HounsfieldCore

/// What decoding a label object onto a series gives: one mask per class on the series' grid, and what the user
/// should know about the result (frames that land nowhere, dropped contours, a frame of reference that differs).
public struct LabelDecoding: Sendable, Hashable {
    /// One mask per segment or ROI, in the order of ``LabelObjectDescriptor/classes``, each with exactly the
    /// series' size and geometry (z in the series' slice order).
    public var segments: [LabelSegment]
    /// The background segment of a LABELMAP SEG (segment number 0, which a ``LabelMap`` cannot hold as a class):
    /// every voxel with value 0, including slices the SEG has no frame for (as highdicom reads them).
    public var background: LabelSegment?
    /// Sentences about what was skipped or looks wrong, for reports; empty when the labels decoded cleanly.
    public var warnings: [String]
    /// The classes as one map of segment numbers, instead of ``segments`` (then empty), when decoding was asked for
    /// it (``LabelObjectDescriptor/decode(onto:as:)`` with ``LabelDecodingForm/classIndexWhenDisjoint``) and no
    /// voxel is in two segments.
    public var classIndex: LabelMap?

    /// A decoding result.
    public init(segments: [LabelSegment], background: LabelSegment? = nil, warnings: [String] = []) {
        self.segments = segments
        self.background = background
        self.warnings = warnings
    }

    /// A decoding result as one class map.
    public init(classIndex: LabelMap, warnings: [String] = []) {
        self.segments = []
        self.background = nil
        self.warnings = warnings
        self.classIndex = classIndex
    }
}

extension Array where Element == LabelClass {
    /// Whether these classes can share one class map: every value in 1…65535, none twice.
    var fitOneClassMap: Bool {
        allSatisfy { (1...65535).contains($0.value) } && Set(map(\.value)).count == count
    }
}

/// What form a decoded label object takes.
public enum LabelDecodingForm: Sendable, Hashable {
    /// One mask per segment or ROI (``LabelDecoding/segments``): what tools compare against highdicom's masks.
    case masks
    /// A BINARY or FRACTIONAL SEG whose segments do not overlap (fractions taken at half their maximum, as a run
    /// stores them), every LABELMAP SEG, and an RTSTRUCT whose ROIs do not overlap, as one class map
    /// (``LabelDecoding/classIndex``); the rest as masks. Why: a 100-segment SEG (or 100-ROI structure set) on a
    /// 512×512×300 CT is 7.9 GB of masks and 157 MB as a map; the map is what a run stores anyway when no voxel is
    /// in two classes.
    case classIndexWhenDisjoint
}
