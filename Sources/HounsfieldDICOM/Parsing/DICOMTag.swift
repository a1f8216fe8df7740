import HounsfieldCore
/// A DICOM attribute tag, `(group,element)`.
public struct DICOMTag: Hashable, Sendable, CustomStringConvertible {
    /// The group number, the first half of `(gggg,eeee)`.
    public let group: UInt16
    /// The element number, the second half of `(gggg,eeee)`.
    public let element: UInt16

    /// The tag `(group,element)`, written as in the standard: `DICOMTag(0x0020, 0x0032)` is ImagePositionPatient.
    public init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    /// `(group << 16) | element`, as the native shim addresses attributes.
    var value: UInt32 { UInt32(group) << 16 | UInt32(element) }

    public var description: String {
        "(" + String(group, radix: 16, uppercase: true).leftPadded(to: 4) + ","
            + String(element, radix: 16, uppercase: true).leftPadded(to: 4) + ")"
    }
}

extension DICOMTag {
    static let mediaStorageSOPClassUID = DICOMTag(0x0002, 0x0002)
    static let imageType = DICOMTag(0x0008, 0x0008)
    static let sopClassUID = DICOMTag(0x0008, 0x0016)
    static let sopInstanceUID = DICOMTag(0x0008, 0x0018)
    static let modality = DICOMTag(0x0008, 0x0060)
    static let seriesDescription = DICOMTag(0x0008, 0x103E)
    static let sliceThickness = DICOMTag(0x0018, 0x0050)
    static let spacingBetweenSlices = DICOMTag(0x0018, 0x0088)
    static let echoNumbers = DICOMTag(0x0018, 0x0086)
    static let triggerTime = DICOMTag(0x0018, 0x1060)
    static let gantryDetectorTilt = DICOMTag(0x0018, 0x1120)
    static let studyInstanceUID = DICOMTag(0x0020, 0x000D)
    static let seriesInstanceUID = DICOMTag(0x0020, 0x000E)
    static let seriesNumber = DICOMTag(0x0020, 0x0011)
    static let acquisitionNumber = DICOMTag(0x0020, 0x0012)
    static let instanceNumber = DICOMTag(0x0020, 0x0013)
    static let imagePositionPatient = DICOMTag(0x0020, 0x0032)
    static let imageOrientationPatient = DICOMTag(0x0020, 0x0037)
    static let frameOfReferenceUID = DICOMTag(0x0020, 0x0052)
    static let temporalPositionIdentifier = DICOMTag(0x0020, 0x0100)
    static let samplesPerPixel = DICOMTag(0x0028, 0x0002)
    static let photometricInterpretation = DICOMTag(0x0028, 0x0004)
    static let numberOfFrames = DICOMTag(0x0028, 0x0008)
    static let rows = DICOMTag(0x0028, 0x0010)
    static let columns = DICOMTag(0x0028, 0x0011)
    static let pixelSpacing = DICOMTag(0x0028, 0x0030)
    static let bitsAllocated = DICOMTag(0x0028, 0x0100)
    static let bitsStored = DICOMTag(0x0028, 0x0101)
    static let highBit = DICOMTag(0x0028, 0x0102)
    static let pixelRepresentation = DICOMTag(0x0028, 0x0103)
    static let pixelPaddingValue = DICOMTag(0x0028, 0x0120)
    static let pixelPaddingRangeLimit = DICOMTag(0x0028, 0x0121)
    static let rescaleIntercept = DICOMTag(0x0028, 0x1052)
    static let rescaleSlope = DICOMTag(0x0028, 0x1053)
    static let sharedFunctionalGroups = DICOMTag(0x5200, 0x9229)
    static let perFrameFunctionalGroups = DICOMTag(0x5200, 0x9230)
    static let planePositionSequence = DICOMTag(0x0020, 0x9113)
    static let planeOrientationSequence = DICOMTag(0x0020, 0x9116)
    static let pixelMeasuresSequence = DICOMTag(0x0028, 0x9110)
    static let pixelValueTransformationSequence = DICOMTag(0x0028, 0x9145)
    static let frameContentSequence = DICOMTag(0x0020, 0x9111)
    static let temporalPositionIndex = DICOMTag(0x0020, 0x9128)
    static let pixelData = DICOMTag(0x7FE0, 0x0010)

    // Written by the synthetic series generator.
    static let specificCharacterSet = DICOMTag(0x0008, 0x0005)
    static let studyDate = DICOMTag(0x0008, 0x0020)
    static let studyTime = DICOMTag(0x0008, 0x0030)
    static let accessionNumber = DICOMTag(0x0008, 0x0050)
    static let referringPhysicianName = DICOMTag(0x0008, 0x0090)
    static let patientBirthDate = DICOMTag(0x0010, 0x0030)
    static let patientSex = DICOMTag(0x0010, 0x0040)
    static let studyID = DICOMTag(0x0020, 0x0010)
    static let manufacturer = DICOMTag(0x0008, 0x0070)
    static let patientName = DICOMTag(0x0010, 0x0010)
    static let patientID = DICOMTag(0x0010, 0x0020)
    static let kvp = DICOMTag(0x0018, 0x0060)
    static let windowCenter = DICOMTag(0x0028, 0x1050)
    static let windowWidth = DICOMTag(0x0028, 0x1051)
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
