import HounsfieldCore
import Foundation

/// What discovery needs to know about one DICOM image object, read from its header only.
///
/// A single-frame file has one `FrameHeader`; an enhanced multi-frame object has one per frame, filled from its
/// per-frame functional groups, then the shared functional groups, then the top-level attributes.
public struct ImageHeader: Sendable {
    public var source: ImageSource
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var frameOfReferenceUID: String?
    public var modality: String?
    public var seriesDescription: String?
    public var imageType: [String]
    public var transferSyntaxUID: String
    public var hasPreamble: Bool
    public var instanceNumber: Int?
    public var acquisitionNumber: Int?
    public var echoNumber: Int?
    public var temporalPosition: Int?
    public var triggerTime: Double?
    public var rows: Int
    public var columns: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    public var isSigned: Bool
    public var samplesPerPixel: Int
    public var photometricInterpretation: String?
    /// Stored values at or between these two are padding (outside the reconstructed field of view), not tissue.
    public var pixelPadding: ClosedRange<Int>?
    public var gantryTilt: Double?
    public var spacingBetweenSlices: Double?
    public var sliceThickness: Double?
    public var frames: [FrameHeader]
    /// Attributes that decide the pixel layout but hold values that cannot be parsed (e.g. NumberOfFrames "1A").
    /// Such an image is refused: guessing would give a silently wrong volume.
    public var invalidAttributes: [String] = []

    /// Whether the object has an image at all (rows, columns and at least one frame).
    public var isImage: Bool { rows > 0 && columns > 0 && !frames.isEmpty }
}

/// Geometry and value mapping of one frame.
public struct FrameHeader: Sendable {
    public var position: Vector3?
    /// Row cosine (along a row, as the column index grows) and column cosine.
    public var orientation: (row: Vector3, column: Vector3)?
    /// Distance between rows (y) and between columns (x), in mm, as PixelSpacing stores them.
    public var pixelSpacing: (betweenRows: Double, betweenColumns: Double)?
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    public var temporalPosition: Int?
}

extension ImageHeader {
    /// DICOMDIR media storage directories are indexes, not images.
    static let mediaStorageDirectoryClass = "1.2.840.10008.1.3.10"

    /// Reads the header of `object` (opened from `source`).
    init(reading object: DICOMObject, from source: ImageSource) {
        self.source = source
        sopClassUID = object.string(.sopClassUID) ?? object.string(.mediaStorageSOPClassUID)
        sopInstanceUID = object.string(.sopInstanceUID)
        studyInstanceUID = object.string(.studyInstanceUID)
        seriesInstanceUID = object.string(.seriesInstanceUID)
        frameOfReferenceUID = object.string(.frameOfReferenceUID)
        modality = object.string(.modality)
        seriesDescription = object.string(.seriesDescription)
        imageType = object.string(.imageType)?.split(separator: "\\").map {
            $0.trimmingCharacters(in: .whitespaces).uppercased()
        } ?? []
        transferSyntaxUID = object.transferSyntaxUID
        hasPreamble = object.hasPreamble
        instanceNumber = object.integer(.instanceNumber)
        acquisitionNumber = object.integer(.acquisitionNumber)
        echoNumber = object.integer(.echoNumbers)
        temporalPosition = object.integer(.temporalPositionIdentifier)
        triggerTime = object.number(.triggerTime)
        rows = object.integer(.rows) ?? 0
        columns = object.integer(.columns) ?? 0
        bitsAllocated = object.integer(.bitsAllocated) ?? 0
        bitsStored = object.integer(.bitsStored) ?? bitsAllocated
        highBit = object.integer(.highBit) ?? (bitsStored - 1)
        isSigned = object.integer(.pixelRepresentation) == 1
        samplesPerPixel = object.integer(.samplesPerPixel) ?? 1
        photometricInterpretation = object.string(.photometricInterpretation)
        gantryTilt = object.number(.gantryDetectorTilt)
        spacingBetweenSlices = object.number(.spacingBetweenSlices)
        sliceThickness = object.number(.sliceThickness)

        // Padding is stored as US or SS depending on PixelRepresentation; implicit-VR files give DCMTK no VR, so a
        // negative value can arrive as its unsigned bit pattern.
        let signed = isSigned
        func paddingValue(_ tag: DICOMTag) -> Int? {
            guard let raw = object.integer(tag) else { return nil }
            return signed && raw > 32767 ? raw - 65536 : raw
        }
        if let padding = paddingValue(.pixelPaddingValue) {
            let limit = paddingValue(.pixelPaddingRangeLimit) ?? padding
            pixelPadding = min(padding, limit)...max(padding, limit)
        }

        for (tag, name) in [(DICOMTag.rows, "Rows"), (.columns, "Columns"), (.numberOfFrames, "NumberOfFrames"),
                            (.bitsAllocated, "BitsAllocated"), (.bitsStored, "BitsStored"), (.highBit, "HighBit"),
                            (.pixelRepresentation, "PixelRepresentation"), (.samplesPerPixel, "SamplesPerPixel")]
        {
            // DCMTK reads an IS of "1A" as 1; a strict parse of the text catches what its lenient one lets through.
            if let text = object.string(tag), Int(text.trimmingCharacters(in: .whitespaces)) == nil {
                invalidAttributes.append("\(name) \(tag) is '\(text)'")
            }
        }
        let frameCount = rows > 0 ? max(1, object.integer(.numberOfFrames) ?? 1) : 0
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
