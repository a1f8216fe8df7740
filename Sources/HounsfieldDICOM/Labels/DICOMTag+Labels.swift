import HounsfieldCore

/// The attributes of DICOM SEG and RTSTRUCT objects that label discovery and decoding read.
extension DICOMTag {
    // References.
    package static let referencedSeriesSequence = DICOMTag(0x0008, 0x1115)
    package static let referencedInstanceSequence = DICOMTag(0x0008, 0x114A)
    package static let referencedSOPInstanceUID = DICOMTag(0x0008, 0x1155)
    package static let sourceImageSequence = DICOMTag(0x0008, 0x2112)
    package static let derivationImageSequence = DICOMTag(0x0008, 0x9124)
    package static let codeMeaning = DICOMTag(0x0008, 0x0104)

    // Segmentation (SEG).
    package static let segmentationType = DICOMTag(0x0062, 0x0001)
    package static let segmentSequence = DICOMTag(0x0062, 0x0002)
    package static let segmentedPropertyCategoryCodeSequence = DICOMTag(0x0062, 0x0003)
    package static let segmentNumber = DICOMTag(0x0062, 0x0004)
    package static let segmentLabel = DICOMTag(0x0062, 0x0005)
    package static let segmentAlgorithmType = DICOMTag(0x0062, 0x0008)
    package static let segmentIdentificationSequence = DICOMTag(0x0062, 0x000A)
    package static let referencedSegmentNumber = DICOMTag(0x0062, 0x000B)
    package static let maximumFractionalValue = DICOMTag(0x0062, 0x000E)
    package static let segmentedPropertyTypeCodeSequence = DICOMTag(0x0062, 0x000F)
    package static let segmentationFractionalType = DICOMTag(0x0062, 0x0010)

    // Structure set (RTSTRUCT).
    package static let referencedFrameOfReferenceSequence = DICOMTag(0x3006, 0x0010)
    package static let rtReferencedStudySequence = DICOMTag(0x3006, 0x0012)
    package static let rtReferencedSeriesSequence = DICOMTag(0x3006, 0x0014)
    package static let contourImageSequence = DICOMTag(0x3006, 0x0016)
    package static let structureSetROISequence = DICOMTag(0x3006, 0x0020)
    package static let roiNumber = DICOMTag(0x3006, 0x0022)
    package static let referencedFrameOfReferenceUID = DICOMTag(0x3006, 0x0024)
    package static let roiName = DICOMTag(0x3006, 0x0026)
    package static let roiGenerationAlgorithm = DICOMTag(0x3006, 0x0036)
    package static let roiContourSequence = DICOMTag(0x3006, 0x0039)
    package static let contourSequence = DICOMTag(0x3006, 0x0040)
    package static let contourGeometricType = DICOMTag(0x3006, 0x0042)
    package static let numberOfContourPoints = DICOMTag(0x3006, 0x0046)
    package static let contourData = DICOMTag(0x3006, 0x0050)
    package static let rtROIObservationsSequence = DICOMTag(0x3006, 0x0080)
    package static let referencedROINumber = DICOMTag(0x3006, 0x0084)
    package static let rtROIInterpretedType = DICOMTag(0x3006, 0x00A4)

    /// The VRs of the tags above, for implicit-VR data sets (whose elements do not state their VR).
    static let labelAttributeVRs: [DICOMTag: ValueRepresentation] = [
        .referencedSeriesSequence: .SQ, .referencedInstanceSequence: .SQ, .referencedSOPInstanceUID: .UI,
        .sourceImageSequence: .SQ, .derivationImageSequence: .SQ, .codeMeaning: .LO,
        .segmentationType: .CS, .segmentSequence: .SQ, .segmentedPropertyCategoryCodeSequence: .SQ,
        .segmentNumber: .US, .segmentLabel: .LO, .segmentAlgorithmType: .CS, .segmentIdentificationSequence: .SQ,
        .referencedSegmentNumber: .US, .maximumFractionalValue: .US, .segmentedPropertyTypeCodeSequence: .SQ,
        .segmentationFractionalType: .CS,
        .referencedFrameOfReferenceSequence: .SQ, .rtReferencedStudySequence: .SQ,
        .rtReferencedSeriesSequence: .SQ, .contourImageSequence: .SQ, .structureSetROISequence: .SQ,
        .roiNumber: .IS, .referencedFrameOfReferenceUID: .UI, .roiName: .LO, .roiGenerationAlgorithm: .CS,
        .roiContourSequence: .SQ, .contourSequence: .SQ, .contourGeometricType: .CS,
        .numberOfContourPoints: .IS, .contourData: .DS, .rtROIObservationsSequence: .SQ,
        .referencedROINumber: .IS, .rtROIInterpretedType: .CS,
    ]
}
