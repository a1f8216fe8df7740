import HounsfieldCore

/// Puts the frames of a DICOM SEG on the grid of the series it references (decision 53).
///
/// Each frame goes to the slice whose SOP instance its DerivationImageSequence → SourceImageSequence names; a frame
/// without such a reference goes to the slice its PlanePositionSequence lies on (within 1% of the slice gap along
/// the normal, and 1% of a pixel in plane). BINARY frames are unpacked from their bit stream, FRACTIONAL frames keep
/// their stored values, LABELMAP frames hold segment numbers (a slice without a frame is background, 0).
enum SegmentationDecoder {
    static func decode(
        _ label: LabelObjectDescriptor, onto series: SeriesDescriptor, as form: LabelDecodingForm = .masks
    ) throws(LabelDecodingError) -> LabelDecoding {
        let file = label.source.name
        let object: DICOMObject
        do { object = try label.source.open(headerOnly: false) } catch { throw .unreadable(error) }

        let rows = object.integer(.rows) ?? 0
        let columns = object.integer(.columns) ?? 0
        let frameCount = object.integer(.numberOfFrames) ?? 1
        let bitsAllocated = object.integer(.bitsAllocated) ?? 0
        let type = label.segmentationType ?? "BINARY"
        guard rows > 0, columns > 0, frameCount > 0 else {
            throw .invalid(file: file, reason: "Rows \(rows), Columns \(columns), NumberOfFrames \(frameCount)")
        }
        let size = series.size
        guard size.z == series.slices.count else {
            throw .unsupported(file: file, reason: "series \(series.seriesInstanceUID) is resampled to \(size.z) slices from \(series.slices.count); labels are placed on slices as stored")
        }
        guard rows == size.y, columns == size.x else {
            throw .gridMismatch(file: file, reason: "frames of \(columns)×\(rows) pixels (columns × rows), the series' slices \(size.x)×\(size.y)")
        }
        let placement = SlicePlacement(series)
        try checkPlane(object, file: file, placement: placement)

        var warnings: [String] = []
        if let own = label.frameOfReferenceUID, let seriesFrame = series.images.first?.frameOfReferenceUID,
           own != seriesFrame
        {
            warnings.append("the SEG's FrameOfReferenceUID \(own) is not the series' \(seriesFrame); frames are placed by their source images")
        }

        // Where each frame goes, and which segment it holds.
        let perFrameCount = object.itemCount(DICOMPath(.perFrameFunctionalGroups)) ?? 0
        var targets: [(frame: Int, slice: Int, segment: Int)] = []
        var unplaced: [String] = []
        for frame in 0..<frameCount {
            let perFrame = frame < perFrameCount
            let segment = perFrame
                ? object.numbers(DICOMPath(
                    [(.perFrameFunctionalGroups, frame), (.segmentIdentificationSequence, 0)], .referencedSegmentNumber))?.first
                : nil
            let sharedSegment = object.numbers(DICOMPath(
                [(.sharedFunctionalGroups, 0), (.segmentIdentificationSequence, 0)], .referencedSegmentNumber))?.first
            let segmentNumber = Int(segment ?? sharedSegment ?? 0)
            guard type == "LABELMAP" || segment != nil || sharedSegment != nil else {
                throw .invalid(file: file, reason: "frame \(frame + 1) has no SegmentIdentificationSequence → ReferencedSegmentNumber")
            }
            let slice = try place(
                object, frame: frame, perFrame: perFrame, placement: placement, file: file, unplaced: &unplaced)
            if let slice { targets.append((frame, slice, segmentNumber)) }
        }
        if !unplaced.isEmpty {
            let shown = unplaced.prefix(5).joined(separator: "; ")
            warnings.append("\(unplaced.count) of \(frameCount) frames land on no slice of the series and are left out (\(shown)\(unplaced.count > 5 ? "; …" : ""))")
        }
        guard !targets.isEmpty else {
            throw .noFramePlaced(file: file, series: series.seriesInstanceUID, reason: unplaced.first ?? "the SEG has no frame")
        }

        let frameLength = rows * columns
        let voxelCount = size.voxelCount
        let known = Set(label.classes.map(\.value))
        // A fraction counts from half its maximum, the rule of ``LabelSegment/smallestInside(maximumFraction:)``.
        let maximumFraction = type == "FRACTIONAL" ? (object.integer(.maximumFractionalValue) ?? 255) : nil
        if form == .classIndexWhenDisjoint, type == "BINARY" || type == "FRACTIONAL",
           let map = try classIndex(object, file: file, targets: targets, known: known, label: label, series: series,
                                    rows: rows, columns: columns, frames: frameCount, bits: bitsAllocated,
                                    inside: UInt16(clamping: maximumFraction.map { LabelSegment.smallestInside(maximumFraction: $0) } ?? 1)) {
            return LabelDecoding(classIndex: map, warnings: warnings + strayWarning(targets, known: known, type: type))
        }
        var values = [UInt16](repeating: 0, count: type == "LABELMAP" ? voxelCount : 0)
        let segmentNumbers = Array(Set(targets.map(\.segment))).sorted()
        let maskIndex = Dictionary(uniqueKeysWithValues: segmentNumbers.enumerated().map { ($1, $0) })
        var masks = type == "LABELMAP"
            ? [] : [[UInt8]](repeating: [UInt8](repeating: 0, count: voxelCount), count: segmentNumbers.count)
        try withFrames(object, file: file, rows: rows, columns: columns, frames: frameCount, bits: bitsAllocated) {
            sample in
            for target in targets {
                let base = target.slice * frameLength
                let first = target.frame * frameLength
                if type == "LABELMAP" {
                    for index in 0..<frameLength { values[base + index] = sample(first + index) }
                } else {
                    masks[maskIndex[target.segment]!].withUnsafeMutableBufferPointer { mask in
                        for index in 0..<frameLength {
                            let value = UInt8(truncatingIfNeeded: sample(first + index))
                            if value > mask[base + index] { mask[base + index] = value }
                        }
                    }
                }
            }
        }

        warnings += strayWarning(targets, known: known, type: type)
        if type == "LABELMAP", form == .classIndexWhenDisjoint,
           let map = labelMapClassIndex(values, label: label, size: size, geometry: series.geometry, warnings: &warnings) {
            return LabelDecoding(classIndex: map, warnings: warnings)
        }
        var segments: [LabelSegment] = []
        var background: LabelSegment?
        for labelClass in label.classes {
            let voxels: [UInt8]
            if type == "LABELMAP" {
                let number = UInt16(truncatingIfNeeded: labelClass.value)
                voxels = values.map { $0 == number ? 1 : 0 }
            } else {
                voxels = maskIndex[labelClass.value].map { masks[$0] } ?? [UInt8](repeating: 0, count: voxelCount)
            }
            let segment = LabelSegment(
                labelClass: labelClass, mask: Volume(voxels: voxels, size: size, geometry: series.geometry),
                maximumFraction: maximumFraction)
            if type == "LABELMAP", labelClass.value == 0 { background = segment } else { segments.append(segment) }
        }
        return LabelDecoding(segments: segments, background: background, warnings: warnings)
    }

    /// A LABELMAP SEG's values as a class map, without a mask per segment (what a run stores anyway: label-map
    /// segments never overlap). Segment 0 is the background, which a class map holds as 0; values that
    /// SegmentSequence does not describe become 0 too, with a warning. Nil when the classes cannot be a class map
    /// (a number outside 1…65535, or one described twice): the caller makes masks.
    private static func labelMapClassIndex(
        _ values: [UInt16], label: LabelObjectDescriptor, size: GridSize, geometry: Geometry, warnings: inout [String]
    ) -> LabelMap? {
        let classes = label.classes.filter { $0.value != 0 }
        guard classes.fitOneClassMap else { return nil }
        var described = [Bool](repeating: false, count: 65536)
        described[0] = true
        for labelClass in classes { described[labelClass.value] = true }
        var strays = Set<UInt16>()
        var voxels = values
        for index in voxels.indices where !described[Int(voxels[index])] {
            strays.insert(voxels[index])
            voxels[index] = 0
        }
        if !strays.isEmpty {
            warnings.append("voxels of segment numbers \(strays.sorted().map(String.init).joined(separator: ", ")) that SegmentSequence does not describe are left out (background)")
        }
        return LabelMap(classIndex: Volume(voxels: voxels, size: size, geometry: geometry), classes: classes)
    }

    /// The warning about frames whose segment number SegmentSequence does not describe (left out), if any.
    private static func strayWarning(
        _ targets: [(frame: Int, slice: Int, segment: Int)], known: Set<Int>, type: String
    ) -> [String] {
        let stray = Set(targets.map(\.segment)).subtracting(known).subtracting(type == "LABELMAP" ? [0] : [])
        guard !stray.isEmpty, type != "LABELMAP" else { return [] }
        return ["frames refer to segment numbers \(stray.sorted().map(String.init).joined(separator: ", ")) that SegmentSequence does not describe; they are left out"]
    }

    /// A BINARY or FRACTIONAL SEG's segments as one map of segment numbers, a voxel belonging to a segment when its
    /// sample is at least `inside` (1, or half the maximum fraction), or nil as soon as a voxel is found in two
    /// segments (the caller then makes masks, which keep the overlap). Frames of segments SegmentSequence does not
    /// describe are left out, as in the masks.
    private static func classIndex(
        _ object: DICOMObject, file: String, targets: [(frame: Int, slice: Int, segment: Int)], known: Set<Int>,
        label: LabelObjectDescriptor, series: SeriesDescriptor, rows: Int, columns: Int, frames: Int, bits: Int,
        inside: UInt16
    ) throws(LabelDecodingError) -> LabelMap? {
        guard label.classes.fitOneClassMap else { return nil }
        let frameLength = rows * columns
        var values = [UInt16](repeating: 0, count: series.size.voxelCount)
        var overlap = false
        try withFrames(object, file: file, rows: rows, columns: columns, frames: frames, bits: bits) { sample in
            values.withUnsafeMutableBufferPointer { values in
                for target in targets where !overlap && known.contains(target.segment) {
                    let base = target.slice * frameLength, first = target.frame * frameLength
                    let value = UInt16(target.segment)
                    for index in 0..<frameLength where sample(first + index) >= inside {
                        let existing = values[base + index]
                        if existing == 0 {
                            values[base + index] = value
                        } else if existing != value {
                            overlap = true
                            break
                        }
                    }
                }
            }
        }
        guard !overlap else { return nil }
        return LabelMap(classIndex: Volume(voxels: values, size: series.size, geometry: series.geometry),
                        classes: label.classes)
    }

    /// Checks that the SEG's frames share the series' pixel spacing and orientation (shared functional groups, else
    /// the first frame's); throws a grid mismatch otherwise.
    private static func checkPlane(
        _ object: DICOMObject, file: String, placement: SlicePlacement
    ) throws(LabelDecodingError) {
        func lookup(_ macro: DICOMTag, _ tag: DICOMTag) -> [Double]? {
            object.numbers(DICOMPath([(.sharedFunctionalGroups, 0), (macro, 0)], tag))
                ?? object.numbers(DICOMPath([(.perFrameFunctionalGroups, 0), (macro, 0)], tag))
        }
        if let iop = lookup(.planeOrientationSequence, .imageOrientationPatient), iop.count >= 6 {
            let row = Vector3(iop[0], iop[1], iop[2]).normalized
            let column = Vector3(iop[3], iop[4], iop[5]).normalized
            guard row.dot(placement.row) > 1 - 1e-4, column.dot(placement.column) > 1 - 1e-4 else {
                throw .gridMismatch(file: file, reason: "ImageOrientationPatient \(iop.map { "\($0)" }.joined(separator: "\\")) is not the series' orientation")
            }
        }
        if let spacing = lookup(.pixelMeasuresSequence, .pixelSpacing), spacing.count >= 2 {
            // PixelSpacing is (between rows, between columns) = (y, x).
            let relative = max(abs(spacing[0] / placement.pixelSpacing.y - 1), abs(spacing[1] / placement.pixelSpacing.x - 1))
            guard relative < 1e-3 else {
                throw .gridMismatch(file: file, reason: "PixelSpacing \(spacing[0])\\\(spacing[1]) mm, the series' \(placement.pixelSpacing.y)\\\(placement.pixelSpacing.x) mm")
            }
        }
    }

    /// The slice frame `frame` lands on: by its source image's SOP instance, else by its plane position; nil (with
    /// the reason in `unplaced`) when neither finds a slice. Throws when the plane position lies on a slice but
    /// shifted in plane.
    private static func place(
        _ object: DICOMObject, frame: Int, perFrame: Bool, placement: SlicePlacement, file: String,
        unplaced: inout [String]
    ) throws(LabelDecodingError) -> Int? {
        var referenced: [String] = []
        if perFrame {
            let derivations = DICOMPath(.perFrameFunctionalGroups, item: frame, .derivationImageSequence)
            for derivation in 0..<(object.itemCount(derivations) ?? 0) {
                let sources = DICOMPath(
                    .perFrameFunctionalGroups, item: frame, .derivationImageSequence, item: derivation,
                    .sourceImageSequence)
                for source in 0..<(object.itemCount(sources) ?? 0) {
                    if let uid = object.string(DICOMPath(
                        [(.perFrameFunctionalGroups, frame), (.derivationImageSequence, derivation),
                         (.sourceImageSequence, source)], .referencedSOPInstanceUID))
                    {
                        referenced.append(uid)
                    }
                }
            }
        }
        if let slice = referenced.lazy.compactMap({ placement.sliceBySOPInstance[$0] }).first { return slice }
        let position = perFrame
            ? object.numbers(DICOMPath([(.perFrameFunctionalGroups, frame), (.planePositionSequence, 0)], .imagePositionPatient))
            : nil
        guard let position, position.count >= 3 else {
            unplaced.append(referenced.isEmpty
                ? "frame \(frame + 1): no source image and no plane position"
                : "frame \(frame + 1): source image \(referenced[0]) is not in the series, and no plane position")
            return nil
        }
        let point = Vector3(position[0], position[1], position[2])
        guard let slice = placement.slice(atHeight: point.dot(placement.normal), tolerance: 0.01 * placement.gap) else {
            unplaced.append("frame \(frame + 1): plane position \(position.map { "\($0)" }.joined(separator: "\\")) is on no slice\(referenced.isEmpty ? "" : " (its source image \(referenced[0]) is not in the series)")")
            return nil
        }
        let offset = placement.inPlaneOffset(of: point, slice: slice)
        guard abs(offset.x) <= 0.01, abs(offset.y) <= 0.01 else {
            throw .gridMismatch(file: file, reason: "frame \(frame + 1) lies on slice \(slice) but shifted by (\(offset.x), \(offset.y)) pixels from its first pixel")
        }
        return slice
    }

    /// Hands `body` a function that reads sample `index` (across all frames) of the pixel data: unpacked bits for
    /// BitsAllocated 1 (frames are one continuous bit stream, least significant bit first), bytes or 16-bit words
    /// otherwise.
    private static func withFrames(
        _ object: DICOMObject, file: String, rows: Int, columns: Int, frames: Int, bits: Int,
        _ body: ((Int) -> UInt16) throws -> Void
    ) throws(LabelDecodingError) {
        let samples = rows * columns * frames
        do {
            switch bits {
            case 1:
                let done: Void? = try object.withStoredPixelBytes(length: (samples + 7) / 8) { raw in
                    try body { index in UInt16((raw[index >> 3] >> UInt8(index & 7)) & 1) }
                }
                guard done != nil else {
                    throw LabelDecodingError.unsupported(file: file, reason: "1-bit pixel data that is compressed, shorter than \(frames) frames, or not little endian")
                }
            case 8:
                let done: Void? = try object.withStoredPixelBytes(length: samples) { raw in
                    try body { index in UInt16(raw[index]) }
                }
                if done == nil {
                    try object.withDecodedPixels(
                        rows: rows, columns: columns, frames: frames, bitsAllocated: 8, samplesPerPixel: 1
                    ) { raw in try body { index in UInt16(raw[index]) } }
                }
            case 16:
                let read: (UnsafeRawBufferPointer) throws -> Void = { raw in
                    try body { index in raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self) }
                }
                if try object.withStoredPixelBytes(length: 2 * samples, read) == nil {
                    try object.withDecodedPixels(
                        rows: rows, columns: columns, frames: frames, bitsAllocated: 16, samplesPerPixel: 1, read)
                }
            default:
                throw LabelDecodingError.unsupported(file: file, reason: "BitsAllocated \(bits); a SEG has 1, 8 or 16")
            }
        } catch let error as LabelDecodingError {
            throw error
        } catch let failure as NativeFailure {
            throw .unreadable(DICOMError(failure, file: file))
        } catch {
            throw .invalid(file: file, reason: "\(error)")
        }
    }
}
