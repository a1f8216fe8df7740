import HounsfieldCore
import HounsfieldDICOM

/// One DICOM SEG or RTSTRUCT in an inspection: what it is, which series it labels, and its segments or ROIs, so a
/// user sees before a run which labels will pair with which image.
public struct LabelObjectReport: Codable, Hashable, Sendable {
    /// The label object's file (or buffer name).
    public var file: String
    /// `segmentation` or `structure_set`.
    public var kind: LabelObjectDescriptor.Kind
    /// BINARY, FRACTIONAL or LABELMAP for a SEG; nil for a structure set.
    public var segmentationType: String?
    /// The label object's own SOPInstanceUID.
    public var sopInstanceUID: String?
    /// The SeriesInstanceUIDs it references.
    public var referencedSeries: [String]
    /// The key of the series in this report it is paired with (its referenced series).
    public var seriesKey: String?
    /// How many images it references (source images of a SEG, contour images of an RTSTRUCT).
    public var referencedInstances: Int
    /// Its frame of reference.
    public var frameOfReferenceUID: String?
    /// Its segments or ROIs.
    public var classes: [LabelClass]

    enum CodingKeys: String, CodingKey {
        case file, kind, segmentationType = "segmentation_type", sopInstanceUID = "sop_instance_uid"
        case referencedSeries = "referenced_series", seriesKey = "series_key"
        case referencedInstances = "referenced_instances", frameOfReferenceUID = "frame_of_reference_uid", classes
    }

    /// The report of `label`, paired with `series` when the scan found it.
    public init(_ label: LabelObjectDescriptor, series: SeriesDescriptor?) {
        file = label.source.name
        kind = label.kind
        segmentationType = label.segmentationType
        sopInstanceUID = label.sopInstanceUID
        referencedSeries = label.referencedSeriesUIDs
        seriesKey = series?.key
        referencedInstances = label.referencedInstanceUIDs.count
        frameOfReferenceUID = label.frameOfReferenceUID
        classes = label.classes
    }
}
