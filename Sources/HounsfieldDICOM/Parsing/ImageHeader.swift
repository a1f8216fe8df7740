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
    public var sopClassUID: String?
    /// SOPInstanceUID (0008,0018): two objects with the same one are copies of the same instance.
    public var sopInstanceUID: String?
    /// StudyInstanceUID (0020,000D).
    public var studyInstanceUID: String?
    /// SeriesInstanceUID (0020,000E): the first key of grouping.
    public var seriesInstanceUID: String?
    /// FrameOfReferenceUID (0020,0052): objects that share it share one patient coordinate system.
    public var frameOfReferenceUID: String?
    /// Modality (0008,0060), such as `CT` or `MR`.
    public var modality: String?
    /// SeriesDescription (0008,103E), as the scanner wrote it.
    public var seriesDescription: String?
    /// ImageType (0008,0008) split at `\`, trimmed and upper-cased (`ORIGINAL`, `PRIMARY`, `LOCALIZER`, …); empty when
    /// absent.
    public var imageType: [String]
    /// The transfer syntax UID the data set was encoded in: as the file meta information states it, or as DCMTK
    /// detected it for objects the little-endian parser leaves to DCMTK.
    public var transferSyntaxUID: String
    /// Whether the file starts with the 128-byte preamble and `DICM`; objects without one are read too.
    public var hasPreamble: Bool
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
    public var rows: Int
    /// Columns (0028,0011): pixels along a row, the x size of a slice (0 when absent).
    public var columns: Int
    /// BitsAllocated (0028,0100): bits per stored sample, 8, 16 or 32 for a supported image.
    public var bitsAllocated: Int
    /// BitsStored (0028,0101): how many of the allocated bits hold the value (BitsAllocated when absent).
    public var bitsStored: Int
    /// HighBit (0028,0102): the most significant bit of the value (BitsStored − 1 when absent).
    public var highBit: Int
    /// Whether PixelRepresentation (0028,0103) is 1: stored values are two's complement, sign-extended from BitsStored.
    public var isSigned: Bool
    /// SamplesPerPixel (0028,0002): 1 for grayscale; colour images are excluded from volumes.
    public var samplesPerPixel: Int
    /// PhotometricInterpretation (0028,0004), such as `MONOCHROME2`.
    public var photometricInterpretation: String?
    /// Stored values at or between these two are padding (outside the reconstructed field of view), not tissue.
    public var pixelPadding: ClosedRange<Int>?
    /// GantryDetectorTilt (0018,1120) in degrees, as declared. Only informative: tilt is measured from the slice
    /// positions.
    public var gantryTilt: Double?
    /// SpacingBetweenSlices (0018,0088) in mm: the z spacing of a single slice or of frames without positions.
    public var spacingBetweenSlices: Double?
    /// SliceThickness (0018,0050) in mm: the width of a slice, never used as a spacing.
    public var sliceThickness: Double?
    /// One entry per frame: one for a single-frame file, NumberOfFrames for an enhanced object, none without an image.
    public var frames: [FrameHeader]
    /// Attributes that decide the pixel layout but hold values that cannot be parsed (e.g. NumberOfFrames "1A").
    /// Such an image is refused: guessing would give a silently wrong volume.
    public var invalidAttributes: [String] = []

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

extension ImageHeader {
    /// Points the texts that images repeat (UIDs of the study, series, frame of reference and SOP class, modality,
    /// description, ImageType, transfer syntax, photometric interpretation) at the copy `texts` already holds, so
    /// that a scan keeps one copy of each instead of one per file. Values are compared byte for byte: nothing
    /// changes but where they are stored.
    mutating func shareTexts(_ texts: SharedTexts) {
        sopClassUID = texts.shared(sopClassUID)
        studyInstanceUID = texts.shared(studyInstanceUID)
        seriesInstanceUID = texts.shared(seriesInstanceUID)
        frameOfReferenceUID = texts.shared(frameOfReferenceUID)
        modality = texts.shared(modality)
        seriesDescription = texts.shared(seriesDescription)
        transferSyntaxUID = texts.shared(transferSyntaxUID)
        photometricInterpretation = texts.shared(photometricInterpretation)
        imageType = texts.shared(imageType)
    }
}

/// One copy of each text seen during a scan, shared by the headers that repeat it.
///
/// Why: a run keeps every planned series' descriptor until the series is done, so a scan of thousands of series
/// keeps its headers for hours. Each header read its texts from its own file, about 0.5 KB of copies per image
/// that every other image of its series repeats; dropped later (once a series is assembled), they left holes of a
/// few hundred bytes between the strings each image keeps, which malloc can neither reuse for large buffers nor
/// return to the system (60 MB of arenas after a scan of 384 series of 80 files). Shared as each header is read,
/// the copy made from the file is freed at once and its memory taken by the next one.
final class SharedTexts: Sendable {
    /// A text compared and hashed by its bytes (String's own equality is Unicode canonical equivalence).
    private struct Key: Hashable {
        let text: String
        static func == (a: Key, b: Key) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
        func hash(into hasher: inout Hasher) {
            var copy = text
            copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    private let texts = Mutex<Set<Key>>([])
    private let lists = Mutex<[Key: [String]]>([:])

    /// The copy of `text` the table holds (storing `text` if it is the first).
    func shared(_ text: String) -> String {
        texts.withLock { $0.insert(Key(text: text)).memberAfterInsert.text }
    }

    func shared(_ text: String?) -> String? { text.map(shared) }

    /// The copy of a list of texts (an ImageType) the table holds.
    func shared(_ list: [String]) -> [String] {
        guard !list.isEmpty else { return list }
        let key = Key(text: list.joined(separator: "\\"))
        return lists.withLock { lists in
            if let known = lists[key], known.count == list.count,
               zip(known, list).allSatisfy({ $0.utf8.elementsEqual($1.utf8) })
            {
                return known
            }
            if lists[key] == nil { lists[key] = list }
            return list
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
