import HounsfieldCore

/// Rasterizes the ROIs of an RT Structure Set onto the grid of the series it references (decision 54).
///
/// Each CLOSED_PLANAR contour goes to the slice whose plane it lies on (every point within half the slice gap of
/// it); its points become continuous pixel indices on that slice, and ``ContourFill`` marks the pixels whose
/// centres are inside by the even-odd rule over all of the ROI's contours on the slice, so a nested contour cuts a
/// hole. Contours on no slice of the series, and POINT or OPEN contours, are left out with a warning.
enum StructureSetRasterizer {
    static func decode(
        _ label: LabelObjectDescriptor, onto series: SeriesDescriptor
    ) throws(LabelDecodingError) -> LabelDecoding {
        let file = label.source.name
        let object: DICOMObject
        // A structure set has no Pixel Data: a header read is the whole object.
        do { object = try label.source.open(headerOnly: true) } catch { throw .unreadable(error) }
        let size = series.size
        guard size.z == series.slices.count else {
            throw .unsupported(file: file, reason: "series \(series.seriesInstanceUID) is resampled to \(size.z) slices from \(series.slices.count); contours are placed on slices as stored")
        }
        let placement = SlicePlacement(series)
        var warnings: [String] = []
        if let own = label.frameOfReferenceUID, let seriesFrame = series.images.first?.frameOfReferenceUID,
           own != seriesFrame
        {
            warnings.append("the structure set's frame of reference \(own) is not the series' \(seriesFrame); contours are placed by their coordinates as if they shared it")
        }

        // ROINumber → position in `label.classes`.
        var classIndex: [Int: Int] = [:]
        for roi in 0..<(object.itemCount(DICOMPath(.structureSetROISequence)) ?? 0) {
            if let number = object.numbers(DICOMPath(.structureSetROISequence, item: roi, .roiNumber))?.first {
                classIndex[Int(number)] = roi
            }
        }
        let width = size.x, height = size.y
        // Polygons per class and slice, in pixel coordinates.
        var polygons = [[Int: [[(x: Double, y: Double)]]]](repeating: [:], count: label.classes.count)
        var contourCounts = [Int](repeating: 0, count: label.classes.count)
        var offSlice = [Int](repeating: 0, count: label.classes.count)
        var outside = [Int](repeating: 0, count: label.classes.count)
        var skippedTypes: [String: Int] = [:]
        let roiContours = object.itemCount(DICOMPath(.roiContourSequence)) ?? 0
        for item in 0..<roiContours {
            guard let number = object.numbers(DICOMPath(.roiContourSequence, item: item, .referencedROINumber))?.first,
                  let roi = classIndex[Int(number)]
            else {
                warnings.append("ROIContourSequence item \(item + 1) refers to no ROI of StructureSetROISequence; its contours are left out")
                continue
            }
            let contours = DICOMPath(.roiContourSequence, item: item, .contourSequence)
            for contour in 0..<(object.itemCount(contours) ?? 0) {
                let step = [(sequence: DICOMTag.roiContourSequence, item: item), (.contourSequence, contour)]
                let type = object.string(DICOMPath(step, .contourGeometricType))?.uppercased() ?? "CLOSED_PLANAR"
                guard type == "CLOSED_PLANAR" else {
                    skippedTypes[type, default: 0] += 1
                    continue
                }
                guard let data = object.numbers(DICOMPath(step, .contourData)), data.count >= 9, data.count % 3 == 0
                else {
                    skippedTypes["CLOSED_PLANAR with fewer than 3 points", default: 0] += 1
                    continue
                }
                contourCounts[roi] += 1
                let points = stride(from: 0, to: data.count, by: 3).map { Vector3(data[$0], data[$0 + 1], data[$0 + 2]) }
                let heights = points.map { $0.dot(placement.normal) }
                let mean = heights.reduce(0, +) / Double(heights.count)
                let tolerance = 0.5 * placement.gap
                guard let slice = placement.slice(atHeight: mean, tolerance: tolerance),
                      heights.allSatisfy({ abs($0 - placement.heights[slice]) < tolerance })
                else {
                    offSlice[roi] += 1
                    continue
                }
                let pixels = points.map { placement.inPlaneOffset(of: $0, slice: slice) }
                if pixels.contains(where: { $0.x < -0.5 || $0.y < -0.5 || $0.x > Double(width) - 0.5 || $0.y > Double(height) - 0.5 }) {
                    outside[roi] += 1
                }
                polygons[roi][slice, default: []].append(pixels)
            }
        }

        // ROIs are filled on all cores, each into its own mask.
        let sliceLength = width * height
        let segments = ParallelLoop.map(label.classes.count) { roi in
            var voxels = [UInt8](repeating: 0, count: size.voxelCount)
            voxels.withUnsafeMutableBufferPointer { buffer in
                for (slice, shapes) in polygons[roi] {
                    let sliceBuffer = UnsafeMutableBufferPointer(rebasing: buffer[slice * sliceLength..<(slice + 1) * sliceLength])
                    ContourFill.fill(shapes, width: width, height: height, into: sliceBuffer)
                }
            }
            return LabelSegment(
                labelClass: label.classes[roi], mask: Volume(voxels: voxels, size: size, geometry: series.geometry))
        }
        for (roi, labelClass) in label.classes.enumerated() {
            let name = "ROI '\(labelClass.name)'"
            if contourCounts[roi] == 0 {
                warnings.append("\(name) has no closed planar contour: its mask is empty")
            } else if offSlice[roi] == contourCounts[roi] {
                warnings.append("\(name): none of its \(contourCounts[roi]) contours lies on a slice of the series: its mask is empty")
            } else if offSlice[roi] > 0 {
                warnings.append("\(name): \(offSlice[roi]) of \(contourCounts[roi]) contours lie on no slice of the series and are left out")
            }
            if outside[roi] > 0 {
                warnings.append("\(name): \(outside[roi]) contour\(outside[roi] == 1 ? "" : "s") reach outside the image; only the part on the image is kept")
            }
        }
        for (type, count) in skippedTypes.sorted(by: { $0.key < $1.key }) {
            warnings.append("\(count) \(type) contour\(count == 1 ? "" : "s") left out: only CLOSED_PLANAR contours enclose an area")
        }
        return LabelDecoding(segments: segments, warnings: warnings)
    }
}
