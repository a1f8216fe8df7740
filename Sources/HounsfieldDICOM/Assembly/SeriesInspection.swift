import HounsfieldCore
/// The checks made on a sorted series, each producing at most one warning.
enum SeriesInspection {
    static func warnings(layout: StackLayout, slices: [Slice], images: [ImageHeader]) -> [SeriesWarning] {
        [
            gantryTilt(layout, images),
            spacing(layout),
            missingSlices(layout),
            padding(images),
            instanceOrder(slices),
            rescale(slices),
            singleSlice(slices),
        ].compactMap { $0 }
    }

    /// Tilt measured from the positions, with the header's GantryDetectorTilt quoted beside it.
    static func gantryTilt(_ layout: StackLayout, _ images: [ImageHeader]) -> SeriesWarning? {
        guard layout.isTilted else { return nil }
        let declared = images.lazy.compactMap(\.gantryTilt).first { $0 != 0 }
        let header = declared.map { "; GantryDetectorTilt (0018,1120) says \($0)°" } ?? ""
        let angle = (layout.tiltDegrees * 100).rounded() / 100
        return SeriesWarning(
            .gantryTilt,
            "gantry tilt \(angle)° measured from slice positions\(header): slices are sheared against the stacking direction",
            value: layout.tiltDegrees)
    }

    static func spacing(_ layout: StackLayout) -> SeriesWarning? {
        guard !layout.isEvenlySpaced, let median = layout.medianGap else { return nil }
        let smallest = layout.gaps.min()!, largest = layout.gaps.max()!
        let deviation = layout.gaps.map { abs($0 - median) }.max()!
        func mm(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }
        return SeriesWarning(
            .nonUniformSpacing,
            "slice spacing varies from \(mm(smallest)) to \(mm(largest)) mm (median \(mm(median)), largest deviation \(mm(deviation)) mm)",
            value: deviation)
    }

    static func missingSlices(_ layout: StackLayout) -> SeriesWarning? {
        let missing = layout.missingSliceCount
        guard missing > 0 else { return nil }
        return SeriesWarning(
            .missingSlices, "about \(missing) slice(s) missing: some gaps are whole multiples of the usual spacing",
            value: Double(missing))
    }

    static func padding(_ images: [ImageHeader]) -> SeriesWarning? {
        guard let padding = images.lazy.compactMap(\.pixelPadding).first else { return nil }
        let range = padding.lowerBound == padding.upperBound ? "\(padding.lowerBound)" : "\(padding.lowerBound)…\(padding.upperBound)"
        return SeriesWarning(
            .pixelPadding,
            "PixelPaddingValue \(range): padded voxels (outside the scanned field) become air unless padding is kept",
            value: Double(padding.lowerBound))
    }

    /// InstanceNumber that runs neither with nor against the spatial order is a trap for tools that sort by it.
    static func instanceOrder(_ slices: [Slice]) -> SeriesWarning? {
        let numbers = slices.compactMap(\.instanceNumber)
        guard numbers.count == slices.count, numbers.count > 2 else { return nil }
        let pairs = zip(numbers, numbers.dropFirst())
        let ascending = pairs.allSatisfy { $0 <= $1 }, descending = pairs.allSatisfy { $0 >= $1 }
        guard !ascending && !descending else { return nil }
        return SeriesWarning(
            .instanceOrderNotSpatial,
            "InstanceNumber order is not spatial: tools that sort by it (MONAI's PydicomReader) scramble this series")
    }

    static func rescale(_ slices: [Slice]) -> SeriesWarning? {
        let pairs = Set(slices.map { "\($0.rescaleSlope)/\($0.rescaleIntercept)" })
        guard pairs.count > 1 else { return nil }
        return SeriesWarning(
            .rescaleVaries, "RescaleSlope/RescaleIntercept differ between slices (\(pairs.count) pairs): applied per slice",
            value: Double(pairs.count))
    }

    static func singleSlice(_ slices: [Slice]) -> SeriesWarning? {
        guard slices.count == 1 else { return nil }
        return SeriesWarning(.singleSlice, "a single slice: its z spacing is SpacingBetweenSlices, or 1 mm when absent")
    }
}
