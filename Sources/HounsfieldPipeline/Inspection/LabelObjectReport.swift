import HounsfieldCore
import HounsfieldDICOM
import HounsfieldNIfTI

/// One label object in an inspection — a DICOM SEG, an RTSTRUCT or a NIfTI label map: what it is, which series it
/// labels, and its segments, ROIs or classes, so a user sees before a run which labels will pair with which image.
public struct LabelObjectReport: Codable, Hashable, Sendable {
    /// What a label object is.
    public enum Kind: String, Codable, Hashable, Sendable {
        /// A DICOM Segmentation.
        case segmentation
        /// A DICOM RT Structure Set.
        case structureSet = "structure_set"
        /// A NIfTI label map (integer voxels, one volume), paired by folder and grid (decision 57).
        case niftiLabelMap = "nifti_label_map"
    }

    /// The label object's file (or buffer name).
    public var file: String
    /// `segmentation`, `structure_set` or `nifti_label_map`.
    public var kind: Kind
    /// BINARY, FRACTIONAL or LABELMAP for a SEG; nil for a structure set.
    public var segmentationType: String?
    /// The label object's own SOPInstanceUID.
    public var sopInstanceUID: String?
    /// The SeriesInstanceUIDs it references (none for a NIfTI label map: it is paired by folder and grid).
    public var referencedSeries: [String]
    /// The key of the series in this report it is paired with (its referenced series).
    public var seriesKey: String?
    /// How many images it references (source images of a SEG, contour images of an RTSTRUCT; 0 for NIfTI).
    public var referencedInstances: Int
    /// Its frame of reference.
    public var frameOfReferenceUID: String?
    /// Its segments or ROIs; for a NIfTI label map, the values present (except 0), named by its label table.
    public var classes: [LabelClass]

    enum CodingKeys: String, CodingKey {
        case file, kind, segmentationType = "segmentation_type", sopInstanceUID = "sop_instance_uid"
        case referencedSeries = "referenced_series", seriesKey = "series_key"
        case referencedInstances = "referenced_instances", frameOfReferenceUID = "frame_of_reference_uid", classes
    }

    /// The report of `label`, paired with `series` when the scan found it.
    public init(_ label: LabelObjectDescriptor, series: SeriesDescriptor?) {
        file = label.source.name
        kind = switch label.kind {
        case .segmentation: .segmentation
        case .structureSet: .structureSet
        }
        segmentationType = label.segmentationType
        sopInstanceUID = label.sopInstanceUID
        referencedSeries = label.referencedSeriesUIDs
        seriesKey = series?.key
        referencedInstances = label.referencedInstanceUIDs.count
        frameOfReferenceUID = label.frameOfReferenceUID
        classes = label.classes
    }

    /// The report of the NIfTI label map `image`, read from `file`, paired with the series or NIfTI image whose key
    /// is `seriesKey` when one was found; its classes are the values present, named by the file's label table, else
    /// by `names` (an nnU-Net `dataset.json`'s).
    init(niftiLabelMap image: NIfTIImage, file: String, seriesKey: String?, names: [Int: String] = [:]) throws(NIfTIError) {
        var present = [Bool](repeating: false, count: 65536)
        for value in try image.labelValues().voxels { present[Int(value)] = true }
        let names = image.labelNames.merging(names) { own, _ in own }
        self.file = file
        kind = .niftiLabelMap
        segmentationType = nil
        sopInstanceUID = nil
        referencedSeries = []
        self.seriesKey = seriesKey
        referencedInstances = 0
        frameOfReferenceUID = nil
        classes = present.indices.dropFirst().filter { present[$0] }.map { LabelClass(value: $0, name: names[$0] ?? "label \($0)") }
    }
}
