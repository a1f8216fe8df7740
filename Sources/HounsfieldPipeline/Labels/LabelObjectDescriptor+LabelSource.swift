import HounsfieldDICOM

/// A DICOM SEG or RTSTRUCT found by discovery labels the series it references: its SeriesInstanceUID, and, when it
/// lists the instances it was drawn on, at least one of the series' images (so a series split by discovery, scouts
/// apart from the axial stack, is paired only where the label was drawn).
extension LabelObjectDescriptor: LabelSource {
    /// The object's file (or buffer name).
    public var file: String { source.name }

    /// Whether the object references `series` (see the type's note).
    public func labels(_ series: SeriesDescriptor) -> Bool {
        guard referencedSeriesUIDs.contains(series.seriesInstanceUID) else { return false }
        let instances = Set(referencedInstanceUIDs)
        let images = series.images.compactMap(\.sopInstanceUID)
        // RTSTRUCTs from some tools list no instances, and a trimmed series has no instance UIDs: the UID decides.
        guard !instances.isEmpty, !images.isEmpty else { return true }
        return images.contains(where: instances.contains)
    }

    /// The classes decoded onto `series` (``LabelObjectDescriptor/decode(onto:as:)``): a SEG or RTSTRUCT whose
    /// classes do not overlap, and every LABELMAP SEG, as one class map; everything else as masks.
    public func segments(on series: SeriesDescriptor) throws -> DecodedLabels {
        let decoded = try decode(onto: series, as: .classIndexWhenDisjoint)
        if let map = decoded.classIndex { return DecodedLabels(map: map, warnings: decoded.warnings) }
        return DecodedLabels(segments: decoded.segments, warnings: decoded.warnings)
    }
}
