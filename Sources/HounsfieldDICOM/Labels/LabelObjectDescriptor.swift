import HounsfieldCore

/// A DICOM label object found by a scan — a segmentation (SEG) or a structure set (RTSTRUCT) — with what it refers
/// to and the classes it holds, read from its header only.
///
/// Label objects are not images: they describe another series, so discovery lists them beside the series
/// (``ScanResult/labelObjects``) instead of excluding them, and ``decode(onto:)`` puts their masks on the grid of the
/// series they reference (``ScanResult/referencedSeries(of:)`` finds it).
public struct LabelObjectDescriptor: Sendable, Hashable {
    /// What kind of label object this is.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A DICOM Segmentation (binary, fractional or label map): per-frame masks on the source images' pixels.
        case segmentation
        /// An RT Structure Set: planar contours in patient millimetres, rasterized onto the slices.
        case structureSet = "structure_set"
    }

    /// The SOP classes that are label objects: Segmentation Storage and Label Map Segmentation Storage (SEG), and
    /// RT Structure Set Storage.
    public static let sopClasses: [String: Kind] = [
        "1.2.840.10008.5.1.4.1.1.66.4": .segmentation,
        "1.2.840.10008.5.1.4.1.1.66.7": .segmentation,
        "1.2.840.10008.5.1.4.1.1.481.3": .structureSet,
    ]

    /// The file or buffer the object was read from.
    public var source: ImageSource
    /// Segmentation or structure set.
    public var kind: Kind
    /// SOPClassUID (0008,0016).
    public var sopClassUID: String
    /// SOPInstanceUID (0008,0018) of the label object itself.
    public var sopInstanceUID: String?
    /// The label object's own StudyInstanceUID, which is normally the referenced series' study.
    public var studyInstanceUID: String?
    /// The label object's own SeriesInstanceUID (not the series it labels).
    public var seriesInstanceUID: String?
    /// The series the labels belong to: ReferencedSeriesSequence (SEG), or ReferencedFrameOfReferenceSequence →
    /// RTReferencedStudySequence → RTReferencedSeriesSequence (RTSTRUCT).
    public var referencedSeriesUIDs: [String]
    /// The images the labels were drawn on (ReferencedInstanceSequence for SEG, ContourImageSequence for
    /// RTSTRUCT); a SEG's frames are placed on the slices with these SOP instances.
    public var referencedInstanceUIDs: [String]
    /// The patient coordinate system of the labels: FrameOfReferenceUID (SEG), or the first referenced frame of
    /// reference (RTSTRUCT). A mismatch with the series is reported when decoding.
    public var frameOfReferenceUID: String?
    /// SegmentationType (BINARY, FRACTIONAL or LABELMAP) for a SEG, nil for a structure set.
    public var segmentationType: String?
    /// The classes: for a SEG one per segment (value = SegmentNumber, name = SegmentLabel, properties
    /// `category`, `type`, `algorithm_type`); for an RTSTRUCT one per ROI (value = its 1-based position in
    /// StructureSetROISequence, name = ROIName, properties `roi_number`, `interpreted_type`,
    /// `generation_algorithm`).
    public var classes: [LabelClass]

    /// The series in `series` this object labels: the first whose SeriesInstanceUID it references, nil when none
    /// is there.
    public func referencedSeries(in series: [SeriesDescriptor]) -> SeriesDescriptor? {
        series.first { referencedSeriesUIDs.contains($0.seriesInstanceUID) }
    }
}
