/// One class of a label map: the value its voxels hold and what it is.
///
/// DICOM SEG segments, RTSTRUCT ROIs and the entries of a NIfTI label table all become classes. `value` is the
/// number training code sees in the label map (the SEG segment number, the ROI's position in the structure set, the
/// NIfTI label value); 0 is background and never a class.
public struct LabelClass: Hashable, Sendable, Codable {
    /// The voxel value of the class in a label map, or its channel's number in the channel layout (1-based).
    public var value: Int
    /// The class's name: SegmentLabel, ROIName, or the label table's name; "label N" when the source has none.
    public var name: String
    /// Properties the source gives, kept as text (for example a SEG segment's category and type codes, or an
    /// RTSTRUCT ROI's interpreted type), so nothing the annotator wrote is lost.
    public var properties: [String: String]

    /// A class with its value, name and optional properties.
    public init(value: Int, name: String, properties: [String: String] = [:]) {
        self.value = value
        self.name = name
        self.properties = properties
    }
}
