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

    /// A decoding result.
    public init(segments: [LabelSegment], background: LabelSegment? = nil, warnings: [String] = []) {
        self.segments = segments
        self.background = background
        self.warnings = warnings
    }
}
