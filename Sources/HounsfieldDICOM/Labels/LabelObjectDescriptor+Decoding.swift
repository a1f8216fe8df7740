import HounsfieldCore

extension LabelObjectDescriptor {
    /// Decodes the label object onto `series`, the series it references: one ``LabelSegment`` per class, each
    /// with exactly the series' size and geometry (z in the series' slice order), and warnings about what was left
    /// out.
    ///
    /// SEG frames are placed by their source images' SOP instances, else by plane position; RTSTRUCT contours are
    /// rasterized on the slice whose plane they lie on, a voxel being inside when its centre is, by the even-odd
    /// rule over all of the ROI's contours on that slice (see `docs/labels.md`). Throws when the object labels
    /// another series, its grid is not the series' grid, or no frame lands on a slice — never returns a shifted
    /// mask. Reads the whole file; call it off the cooperative pool for large objects. Pass the series as the scan
    /// gave it, not one trimmed for decoding (`trimmedForDecoding()` drops the SOP instance UIDs that SEG frames
    /// are placed by).
    ///
    /// `form` ``LabelDecodingForm/classIndexWhenDisjoint`` gives a SEG or RTSTRUCT whose classes do not overlap as
    /// one class map (the masks' voxels, at a fraction of their memory).
    public func decode(
        onto series: SeriesDescriptor, as form: LabelDecodingForm = .masks
    ) throws(LabelDecodingError) -> LabelDecoding {
        guard referencedSeriesUIDs.contains(series.seriesInstanceUID) else {
            throw .wrongSeries(file: source.name, referenced: referencedSeriesUIDs, series: series.seriesInstanceUID)
        }
        switch kind {
        case .segmentation: return try SegmentationDecoder.decode(self, onto: series, as: form)
        case .structureSet: return try StructureSetRasterizer.decode(self, onto: series, as: form)
        }
    }
}
