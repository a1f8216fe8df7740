import HounsfieldCore
import Foundation
import Synchronization

/// What discovery needs to know about one DICOM image object, read from its header only.
///
/// A single-frame file has one `FrameHeader`; an enhanced multi-frame object has one per frame, filled from its
/// per-frame functional groups, then the shared functional groups, then the top-level attributes.
public struct ImageHeader: Sendable {
    /// The file or buffer the header was read from.
    public var source: ImageSource
    /// SOPClassUID (0008,0016), or MediaStorageSOPClassUID from the file meta information when the data set has none.
    public var sopClassUID: String? {
        get { attributes.values.sopClassUID }
        set { update { $0.sopClassUID = newValue } }
    }
    /// SOPInstanceUID (0008,0018), or MediaStorageSOPInstanceUID from the file meta information when the data set's
    /// is absent or empty: two objects with the same one are copies of the same instance.
    public var sopInstanceUID: String?
    /// StudyInstanceUID (0020,000D).
    public var studyInstanceUID: String? {
        get { attributes.values.studyInstanceUID }
        set { update { $0.studyInstanceUID = newValue } }
    }
    /// SeriesInstanceUID (0020,000E): the first key of grouping.
    public var seriesInstanceUID: String? {
        get { attributes.values.seriesInstanceUID }
        set { update { $0.seriesInstanceUID = newValue } }
    }
    /// FrameOfReferenceUID (0020,0052): objects that share it share one patient coordinate system.
    public var frameOfReferenceUID: String? {
        get { attributes.values.frameOfReferenceUID }
        set { update { $0.frameOfReferenceUID = newValue } }
    }
    /// Modality (0008,0060), such as `CT` or `MR`.
    public var modality: String? {
        get { attributes.values.modality }
        set { update { $0.modality = newValue } }
    }
    /// SeriesDescription (0008,103E), as the scanner wrote it.
    public var seriesDescription: String? {
        get { attributes.values.seriesDescription }
        set { update { $0.seriesDescription = newValue } }
    }
    /// ImageType (0008,0008) split at `\`, trimmed and upper-cased (`ORIGINAL`, `PRIMARY`, `LOCALIZER`, …); empty when
    /// absent.
    public var imageType: [String] {
        get { attributes.values.imageType }
        set { update { $0.imageType = newValue } }
    }
    /// The transfer syntax UID the data set was encoded in: as the file meta information states it, or as DCMTK
    /// detected it for objects the little-endian parser leaves to DCMTK.
    public var transferSyntaxUID: String {
        get { attributes.values.transferSyntaxUID }
        set { update { $0.transferSyntaxUID = newValue } }
    }
    /// Whether the file starts with the 128-byte preamble and `DICM`; objects without one are read too.
    public var hasPreamble: Bool {
        get { attributes.values.hasPreamble }
        set { update { $0.hasPreamble = newValue } }
    }
    /// InstanceNumber (0020,0013): used only to break ties between slices at the same position, never to sort.
    public var instanceNumber: Int?
    /// AcquisitionNumber (0020,0012): the first attribute tried when repeated positions mean several acquisitions.
    public var acquisitionNumber: Int?
    /// EchoNumbers (0018,0086), used to separate acquisitions at repeated positions.
    public var echoNumber: Int?
    /// TemporalPositionIdentifier (0020,0100), used to separate acquisitions at repeated positions.
    public var temporalPosition: Int?
    /// TriggerTime (0018,1060), in milliseconds; the last attribute tried to separate acquisitions at repeated
    /// positions.
    public var triggerTime: Double?
    /// Rows (0028,0010): pixels along a column, the y size of a slice (0 when absent).
    public var rows: Int {
        get { attributes.values.rows }
        set { update { $0.rows = newValue } }
    }
    /// Columns (0028,0011): pixels along a row, the x size of a slice (0 when absent).
    public var columns: Int {
        get { attributes.values.columns }
        set { update { $0.columns = newValue } }
    }
    /// BitsAllocated (0028,0100): bits per stored sample, 8, 16 or 32 for a supported image.
    public var bitsAllocated: Int {
        get { attributes.values.bitsAllocated }
        set { update { $0.bitsAllocated = newValue } }
    }
    /// BitsStored (0028,0101): how many of the allocated bits hold the value (BitsAllocated when absent).
    public var bitsStored: Int {
        get { attributes.values.bitsStored }
        set { update { $0.bitsStored = newValue } }
    }
    /// HighBit (0028,0102): the most significant bit of the value (BitsStored − 1 when absent).
    public var highBit: Int {
        get { attributes.values.highBit }
        set { update { $0.highBit = newValue } }
    }
    /// Whether PixelRepresentation (0028,0103) is 1: stored values are two's complement, sign-extended from BitsStored.
    public var isSigned: Bool {
        get { attributes.values.isSigned }
        set { update { $0.isSigned = newValue } }
    }
    /// SamplesPerPixel (0028,0002): 1 for grayscale; colour images are excluded from volumes.
    public var samplesPerPixel: Int {
        get { attributes.values.samplesPerPixel }
        set { update { $0.samplesPerPixel = newValue } }
    }
    /// PhotometricInterpretation (0028,0004), such as `MONOCHROME2`.
    public var photometricInterpretation: String? {
        get { attributes.values.photometricInterpretation }
        set { update { $0.photometricInterpretation = newValue } }
    }
    /// Stored values at or between these two are padding (outside the reconstructed field of view), not tissue.
    public var pixelPadding: ClosedRange<Int>? {
        get { attributes.values.pixelPadding }
        set { update { $0.pixelPadding = newValue } }
    }
    /// GantryDetectorTilt (0018,1120) in degrees, as declared. Only informative: tilt is measured from the slice
    /// positions.
    public var gantryTilt: Double? {
        get { attributes.values.gantryTilt }
        set { update { $0.gantryTilt = newValue } }
    }
    /// SpacingBetweenSlices (0018,0088) in mm: the z spacing of a single slice or of frames without positions.
    public var spacingBetweenSlices: Double? {
        get { attributes.values.spacingBetweenSlices }
        set { update { $0.spacingBetweenSlices = newValue } }
    }
    /// SliceThickness (0018,0050) in mm: the width of a slice, never used as a spacing.
    public var sliceThickness: Double? {
        get { attributes.values.sliceThickness }
        set { update { $0.sliceThickness = newValue } }
    }
    /// One entry per frame: one for a single-frame file, NumberOfFrames for an enhanced object, none without an image.
    public var frames: [FrameHeader]
    /// Attributes that decide the pixel layout but hold values that cannot be parsed (e.g. NumberOfFrames "1A").
    /// Such an image is refused: guessing would give a silently wrong volume.
    public var invalidAttributes: [String] {
        get { attributes.values.invalidAttributes }
        set { update { $0.invalidAttributes = newValue } }
    }

    /// What the images of a series usually share (UIDs, layout, spacing), kept once per distinct set of values
    /// and shared by every header that has it (``ImageAttributes``): a scan of thousands of files keeps one copy
    /// per series instead of one per file.
    private var attributes: SharedImageAttributes

    /// Changes a shared value for this header only (copy on write: other headers keep theirs).
    private mutating func update(_ change: (inout ImageAttributes) -> Void) {
        var values = attributes.values
        change(&values)
        attributes = SharedImageAttributes(values)
    }

    /// Stores the shared values as `pool` holds them, so that equal ones are kept once.
    mutating func share(in pool: ImageAttributesPool) {
        attributes = pool.shared(attributes)
    }

    /// Whether the object has an image at all (rows, columns and at least one frame).
    public var isImage: Bool { rows > 0 && columns > 0 && !frames.isEmpty }
}

/// Geometry and value mapping of one frame.
public struct FrameHeader: Sendable {
    /// ImagePositionPatient: the centre of the frame's first pixel, in LPS millimetres (nil when absent).
    public var position: Vector3?
    /// Row cosine (along a row, as the column index grows) and column cosine.
    public var orientation: (row: Vector3, column: Vector3)?
    /// Distance between rows (y) and between columns (x), in mm, as PixelSpacing stores them.
    public var pixelSpacing: (betweenRows: Double, betweenColumns: Double)?
    /// RescaleSlope: `HU = stored × slope + intercept` (1 when absent, zero or not finite).
    public var rescaleSlope: Double
    /// RescaleIntercept, in HU (0 when absent or not finite).
    public var rescaleIntercept: Double
    /// TemporalPositionIndex from the frame's FrameContentSequence (enhanced objects only).
    public var temporalPosition: Int?
}

extension ImageHeader {
    /// DICOMDIR media storage directories are indexes, not images.
    static let mediaStorageDirectoryClass = "1.2.840.10008.1.3.10"

    /// Reads the header of `object` (opened from `source`).
    init(reading object: DICOMObject, from source: ImageSource) {
        var values = ImageAttributes()
        values.sopClassUID = object.string(.sopClassUID) ?? object.string(.mediaStorageSOPClassUID)
        values.studyInstanceUID = object.string(.studyInstanceUID)
        values.seriesInstanceUID = object.string(.seriesInstanceUID)
        values.frameOfReferenceUID = object.string(.frameOfReferenceUID)
        values.modality = object.string(.modality)
        values.seriesDescription = object.string(.seriesDescription)
        values.imageType = object.string(.imageType)?.split(separator: "\\").map {
            $0.trimmingCharacters(in: .whitespaces).uppercased()
        } ?? []
        values.transferSyntaxUID = object.transferSyntaxUID
        values.hasPreamble = object.hasPreamble
        values.rows = object.integer(.rows) ?? 0
        values.columns = object.integer(.columns) ?? 0
        values.bitsAllocated = object.integer(.bitsAllocated) ?? 0
        values.bitsStored = object.integer(.bitsStored) ?? values.bitsAllocated
        values.highBit = object.integer(.highBit) ?? (values.bitsStored - 1)
        values.isSigned = object.integer(.pixelRepresentation) == 1
        values.samplesPerPixel = object.integer(.samplesPerPixel) ?? 1
        values.photometricInterpretation = object.string(.photometricInterpretation)
        values.gantryTilt = object.number(.gantryDetectorTilt)
        values.spacingBetweenSlices = object.number(.spacingBetweenSlices)
        values.sliceThickness = object.number(.sliceThickness)

        // Padding is stored as US or SS depending on PixelRepresentation; implicit-VR files give DCMTK no VR, so a
        // negative value can arrive as its unsigned bit pattern.
        let signed = values.isSigned
        func paddingValue(_ tag: DICOMTag) -> Int? {
            guard let raw = object.integer(tag) else { return nil }
            return signed && raw > 32767 ? raw - 65536 : raw
        }
        if let padding = paddingValue(.pixelPaddingValue) {
            let limit = paddingValue(.pixelPaddingRangeLimit) ?? padding
            values.pixelPadding = min(padding, limit)...max(padding, limit)
        }

        for (tag, name) in [(DICOMTag.rows, "Rows"), (.columns, "Columns"), (.numberOfFrames, "NumberOfFrames"),
                            (.bitsAllocated, "BitsAllocated"), (.bitsStored, "BitsStored"), (.highBit, "HighBit"),
                            (.pixelRepresentation, "PixelRepresentation"), (.samplesPerPixel, "SamplesPerPixel")]
        {
            // DCMTK reads an IS of "1A" as 1; a strict parse of the text catches what its lenient one lets through.
            if let text = object.string(tag), Int(text.trimmingCharacters(in: .whitespaces)) == nil {
                values.invalidAttributes.append("\(name) \(tag) is '\(text)'")
            }
        }
        self.source = source
        attributes = SharedImageAttributes(values)
        // An empty SOPInstanceUID (some anonymizers blank it) falls back to the file meta's, as dcm2niix reads it.
        sopInstanceUID = object.string(.sopInstanceUID) ?? object.string(.mediaStorageSOPInstanceUID)
        instanceNumber = object.integer(.instanceNumber)
        acquisitionNumber = object.integer(.acquisitionNumber)
        echoNumber = object.integer(.echoNumbers)
        temporalPosition = object.integer(.temporalPositionIdentifier)
        triggerTime = object.number(.triggerTime)
        let frameCount = values.rows > 0 ? max(1, object.integer(.numberOfFrames) ?? 1) : 0
        let perFrameItems = object.itemCount(DICOMPath(.perFrameFunctionalGroups)) ?? 0
        let hasSharedGroups = (object.itemCount(DICOMPath(.sharedFunctionalGroups)) ?? 0) > 0
        frames = (0..<frameCount).map { frame in
            FrameHeader.read(
                object, frame: frame, perFrame: frame < perFrameItems, shared: hasSharedGroups)
        }
    }
}

extension FrameHeader {
    /// Looks an attribute up where the standard allows it: the frame's own functional group, the shared one, then
    /// the top level of the data set.
    static func read(_ object: DICOMObject, frame: Int, perFrame: Bool, shared: Bool) -> FrameHeader {
        func lookup(_ macro: DICOMTag, _ tag: DICOMTag) -> [Double]? {
            if perFrame, let values = object.numbers(
                DICOMPath(.perFrameFunctionalGroups, item: frame, macro, item: 0, tag))
            {
                return values
            }
            if shared, let values = object.numbers(DICOMPath(.sharedFunctionalGroups, item: 0, macro, item: 0, tag)) {
                return values
            }
            return object.numbers(tag)
        }
        var header = FrameHeader(rescaleSlope: 1, rescaleIntercept: 0)
        if let p = lookup(.planePositionSequence, .imagePositionPatient), p.count >= 3 {
            header.position = Vector3(p[0], p[1], p[2])
        }
        if let o = lookup(.planeOrientationSequence, .imageOrientationPatient), o.count >= 6 {
            let row = Vector3(o[0], o[1], o[2])
            let column = Vector3(o[3], o[4], o[5])
            if row.length > 0.5, column.length > 0.5 {
                header.orientation = (row.normalized, column.normalized)
            }
        }
        if let s = lookup(.pixelMeasuresSequence, .pixelSpacing), s.count >= 2, s[0] > 0, s[1] > 0 {
            header.pixelSpacing = (s[0], s[1])
        }
        if let slope = lookup(.pixelValueTransformationSequence, .rescaleSlope)?.first, slope.isFinite, slope != 0 {
            header.rescaleSlope = slope
        }
        if let intercept = lookup(.pixelValueTransformationSequence, .rescaleIntercept)?.first, intercept.isFinite {
            header.rescaleIntercept = intercept
        }
        if perFrame {
            header.temporalPosition = object.numbers(
                DICOMPath(.perFrameFunctionalGroups, item: frame, .frameContentSequence, item: 0,
                          .temporalPositionIndex))?.first.map { Int($0) }
        }
        return header
    }
}
