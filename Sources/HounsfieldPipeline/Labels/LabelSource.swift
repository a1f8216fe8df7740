import HounsfieldCore
import HounsfieldDICOM

/// A label object that can put its classes on a series' grid: a DICOM SEG or RTSTRUCT that references the series, a
/// NIfTI label map beside it. Discovery pairs sources with series; ``SeriesProcessor`` decodes them after the image
/// and sends them through the same spatial steps, so image and label leave on one grid.
public protocol LabelSource: Sendable {
    /// The label object's file, for messages (and, hashed unless identifiers are kept, for provenance).
    var file: String { get }
    /// Whether this object labels `series` (it references the series' UID, or was paired with it by name).
    func labels(_ series: SeriesDescriptor) -> Bool
    /// The classes' masks on `series`' own grid (its ``SeriesDescriptor/size`` and ``SeriesDescriptor/geometry``),
    /// with what was wrong but not fatal. Throws, naming the file and the reason, when no mask can be placed.
    func segments(on series: SeriesDescriptor) throws -> DecodedLabels
    /// The classes on a grid that is not a DICOM series' (a NIfTI image's). Only label maps can do this; objects
    /// that reference DICOM instances throw (the default).
    func segments(on size: GridSize, geometry: Geometry) throws -> DecodedLabels
}

extension LabelSource {
    /// Default: a label object that references DICOM instances cannot be placed on a grid alone.
    public func segments(on size: GridSize, geometry: Geometry) throws -> DecodedLabels {
        throw NotALabelMap()
    }
}

/// A DICOM label object asked to label a NIfTI image.
struct NotALabelMap: Error, CustomStringConvertible {
    var description: String { "a DICOM label object references its series' instances and cannot label a NIfTI image" }
}

/// The masks a label object gives for one series, and the problems met on the way.
public struct DecodedLabels: Sendable {
    /// One mask per class, on the series' grid (empty when the object gave a ``map``).
    public var segments: [LabelSegment]
    /// The classes as one map, for objects that are a label map already (a NIfTI label map): no mask per class is
    /// made, which for a 100-class map on a 512×512×300 CT is the difference between 80 MB and 8 GB.
    public var map: LabelMap?
    /// Problems that did not stop decoding (a contour on no slice, an empty segment), each a sentence.
    public var warnings: [String]

    /// Masks and warnings as decoded.
    public init(segments: [LabelSegment], warnings: [String] = []) {
        self.segments = segments
        self.map = nil
        self.warnings = warnings
    }

    /// A label map and warnings as decoded.
    public init(map: LabelMap, warnings: [String] = []) {
        self.segments = []
        self.map = map
        self.warnings = warnings
    }

    /// The classes as masks: ``segments``, or one mask per class of ``map`` (when several objects label one series
    /// and must share a map).
    var allSegments: [LabelSegment] {
        guard let map else { return segments }
        if let values = map.values {
            return map.classes.map { labelClass in
                let value = UInt16(labelClass.value)
                var mask = Volume<UInt8>(repeating: 0, size: values.size, geometry: values.geometry)
                for index in values.voxels.indices where values.voxels[index] == value { mask.voxels[index] = 1 }
                return LabelSegment(labelClass: labelClass, mask: mask)
            }
        }
        return zip(map.classes, map.channels).map { LabelSegment(labelClass: $0, mask: $1) }
    }
}
