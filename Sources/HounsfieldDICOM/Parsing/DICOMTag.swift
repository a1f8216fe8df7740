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
    package static let mediaStorageSOPClassUID = DICOMTag(0x0002, 0x0002)
    package static let mediaStorageSOPInstanceUID = DICOMTag(0x0002, 0x0003)
    package static let imageType = DICOMTag(0x0008, 0x0008)
    package static let sopClassUID = DICOMTag(0x0008, 0x0016)
    package static let sopInstanceUID = DICOMTag(0x0008, 0x0018)
    package static let modality = DICOMTag(0x0008, 0x0060)
    package static let seriesDescription = DICOMTag(0x0008, 0x103E)
    package static let sliceThickness = DICOMTag(0x0018, 0x0050)
    package static let spacingBetweenSlices = DICOMTag(0x0018, 0x0088)
    package static let echoNumbers = DICOMTag(0x0018, 0x0086)
    package static let triggerTime = DICOMTag(0x0018, 0x1060)
    package static let gantryDetectorTilt = DICOMTag(0x0018, 0x1120)
    package static let studyInstanceUID = DICOMTag(0x0020, 0x000D)
    package static let seriesInstanceUID = DICOMTag(0x0020, 0x000E)
    package static let seriesNumber = DICOMTag(0x0020, 0x0011)
    package static let acquisitionNumber = DICOMTag(0x0020, 0x0012)
    package static let instanceNumber = DICOMTag(0x0020, 0x0013)
    package static let imagePositionPatient = DICOMTag(0x0020, 0x0032)
    package static let imageOrientationPatient = DICOMTag(0x0020, 0x0037)
    package static let frameOfReferenceUID = DICOMTag(0x0020, 0x0052)
    package static let temporalPositionIdentifier = DICOMTag(0x0020, 0x0100)
    package static let samplesPerPixel = DICOMTag(0x0028, 0x0002)
    package static let photometricInterpretation = DICOMTag(0x0028, 0x0004)
    package static let numberOfFrames = DICOMTag(0x0028, 0x0008)
    package static let rows = DICOMTag(0x0028, 0x0010)
    package static let columns = DICOMTag(0x0028, 0x0011)
    package static let pixelSpacing = DICOMTag(0x0028, 0x0030)
    package static let bitsAllocated = DICOMTag(0x0028, 0x0100)
    package static let bitsStored = DICOMTag(0x0028, 0x0101)
    package static let highBit = DICOMTag(0x0028, 0x0102)
    package static let pixelRepresentation = DICOMTag(0x0028, 0x0103)
    package static let pixelPaddingValue = DICOMTag(0x0028, 0x0120)
    package static let pixelPaddingRangeLimit = DICOMTag(0x0028, 0x0121)
    package static let rescaleIntercept = DICOMTag(0x0028, 0x1052)
    package static let rescaleSlope = DICOMTag(0x0028, 0x1053)
    package static let sharedFunctionalGroups = DICOMTag(0x5200, 0x9229)
    package static let perFrameFunctionalGroups = DICOMTag(0x5200, 0x9230)
    package static let planePositionSequence = DICOMTag(0x0020, 0x9113)
    package static let planeOrientationSequence = DICOMTag(0x0020, 0x9116)
    package static let pixelMeasuresSequence = DICOMTag(0x0028, 0x9110)
    package static let pixelValueTransformationSequence = DICOMTag(0x0028, 0x9145)
    package static let frameContentSequence = DICOMTag(0x0020, 0x9111)
    package static let temporalPositionIndex = DICOMTag(0x0020, 0x9128)
    package static let pixelData = DICOMTag(0x7FE0, 0x0010)

    // Written by the synthetic series generator.
    package static let specificCharacterSet = DICOMTag(0x0008, 0x0005)
    package static let studyDate = DICOMTag(0x0008, 0x0020)
    package static let studyTime = DICOMTag(0x0008, 0x0030)
    package static let accessionNumber = DICOMTag(0x0008, 0x0050)
    package static let referringPhysicianName = DICOMTag(0x0008, 0x0090)
    package static let patientBirthDate = DICOMTag(0x0010, 0x0030)
    package static let patientSex = DICOMTag(0x0010, 0x0040)
    package static let studyID = DICOMTag(0x0020, 0x0010)
    package static let manufacturer = DICOMTag(0x0008, 0x0070)
    package static let patientName = DICOMTag(0x0010, 0x0010)
    package static let patientID = DICOMTag(0x0010, 0x0020)
    package static let kvp = DICOMTag(0x0018, 0x0060)
    package static let windowCenter = DICOMTag(0x0028, 0x1050)
    package static let windowWidth = DICOMTag(0x0028, 0x1051)
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
