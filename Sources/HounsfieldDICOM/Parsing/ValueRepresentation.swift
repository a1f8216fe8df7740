import HounsfieldCore

/// A value representation: the two letters that say how an element's value is encoded (`DS`, `US`, `SQ`, …), packed
/// into 16 bits as they appear in an explicit-VR stream (`"D" << 8 | "S"`).
struct ValueRepresentation: Hashable, Sendable, CustomStringConvertible {
    let code: UInt16

    init(_ first: UInt8, _ second: UInt8) { code = UInt16(first) << 8 | UInt16(second) }

    private init(_ text: StaticString) {
        let bytes = text.utf8Start
        self.init(bytes[0], bytes[1])
    }

    static let AE = Self("AE"), AS = Self("AS"), AT = Self("AT"), CS = Self("CS"), DA = Self("DA")
    static let DS = Self("DS"), DT = Self("DT"), FD = Self("FD"), FL = Self("FL"), IS = Self("IS")
    static let LO = Self("LO"), LT = Self("LT"), OB = Self("OB"), OD = Self("OD"), OF = Self("OF")
    static let OL = Self("OL"), OV = Self("OV"), OW = Self("OW"), PN = Self("PN"), SH = Self("SH")
    static let SL = Self("SL"), SQ = Self("SQ"), SS = Self("SS"), ST = Self("ST"), SV = Self("SV")
    static let TM = Self("TM"), UC = Self("UC"), UI = Self("UI"), UL = Self("UL"), UN = Self("UN")
    static let UR = Self("UR"), US = Self("US"), UT = Self("UT"), UV = Self("UV")

    /// Every VR of the standard (PS3.5 table 6.2-1). An explicit-VR stream naming anything else is not read natively.
    static let known: Set<Self> = [
        AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI,
        UL, UN, UR, US, UT, UV,
    ]

    /// In explicit VR these have two reserved bytes and a 32-bit length; all others a 16-bit length (PS3.5 7.1.2).
    var hasLongLength: Bool {
        switch self {
        case .OB, .OD, .OF, .OL, .OV, .OW, .SQ, .SV, .UC, .UN, .UR, .UT, .UV: true
        default: false
        }
    }

    /// Text whose value may hold several values separated by `\`.
    var isMultiValuedText: Bool {
        switch self {
        case .AE, .AS, .CS, .DA, .DS, .DT, .IS, .LO, .PN, .SH, .TM, .UC, .UI: true
        default: false
        }
    }

    /// Text that is one value, in which `\` is an ordinary character.
    var isSingleValuedText: Bool {
        switch self {
        case .LT, .ST, .UR, .UT: true
        default: false
        }
    }

    var description: String {
        String(decoding: [UInt8(code >> 8), UInt8(code & 0xFF)], as: UTF8.self)
    }
}

extension ValueRepresentation {
    /// The VRs of the attributes Hounsfield reads, for implicit-VR data sets, whose elements do not state theirs.
    /// An implicit-VR element not listed here is kept as `UN`: its value is never read, only skipped.
    ///
    /// PixelPaddingValue and PixelPaddingRangeLimit are `US or SS` in the standard; like DCMTK, they are read as
    /// `US` here, and `ImageHeader` turns the bit pattern back into a negative value when pixels are signed.
    static let ofAttributesRead: [UInt32: ValueRepresentation] = {
        let table: [DICOMTag: ValueRepresentation] = [
            .mediaStorageSOPClassUID: .UI, .imageType: .CS, .sopClassUID: .UI, .sopInstanceUID: .UI,
            .modality: .CS, .seriesDescription: .LO, .sliceThickness: .DS, .spacingBetweenSlices: .DS,
            .echoNumbers: .IS, .triggerTime: .DS, .gantryDetectorTilt: .DS, .studyInstanceUID: .UI,
            .seriesInstanceUID: .UI, .acquisitionNumber: .IS, .instanceNumber: .IS,
            .imagePositionPatient: .DS, .imageOrientationPatient: .DS, .frameOfReferenceUID: .UI,
            .temporalPositionIdentifier: .IS, .samplesPerPixel: .US, .photometricInterpretation: .CS,
            .numberOfFrames: .IS, .rows: .US, .columns: .US, .pixelSpacing: .DS, .bitsAllocated: .US,
            .bitsStored: .US, .highBit: .US, .pixelRepresentation: .US, .pixelPaddingValue: .US,
            .pixelPaddingRangeLimit: .US, .rescaleIntercept: .DS, .rescaleSlope: .DS,
            .sharedFunctionalGroups: .SQ, .perFrameFunctionalGroups: .SQ, .planePositionSequence: .SQ,
            .planeOrientationSequence: .SQ, .pixelMeasuresSequence: .SQ, .pixelValueTransformationSequence: .SQ,
            .frameContentSequence: .SQ, .temporalPositionIndex: .UL, .pixelData: .OW,
        ]
        return Dictionary(
            uniqueKeysWithValues: table.merging(DICOMTag.labelAttributeVRs) { first, _ in first }.map { ($0.key.value, $0.value) })
    }()
}
