import HounsfieldDICOM


/// A selected series on its way through the stages, with what was decided about it once, at selection: its key,
/// the item it came from, and whether it streams (is decoded slice by slice as its chain reads it, inside the
/// transform stage) or is decoded whole first.
public struct SeriesPlan: Sendable {
    /// What a planned volume is made from.
    public enum Image: Sendable {
        /// A DICOM series, as discovered.
        case series(SeriesDescriptor)
        /// A NIfTI image (decision 61).
        case nifti(NIfTIInput)
    }

    /// What the volume is made from.
    public var image: Image
    /// The DICOM series, when the volume is made from one.
    public var series: SeriesDescriptor? {
        if case .series(let series) = image { series } else { nil }
    }
    /// Its output key.
    public var key: String
    /// The work item it came from.
    public var item: String
    /// Whether the transform stage decodes it as the chain reads it (``SeriesProcessor/streams(_:)``); the decode
    /// stage then passes it on untouched.
    public var streams: Bool
    /// The label objects paired with the series (DICOM SEG, RTSTRUCT, NIfTI label maps), decoded after the image.
    public var labels: [any LabelSource] = []
    /// What the report says of the series so far (status, stage times and attempts are filled in on the way).
    var report: RunReport.SeriesOutcome
}
