import Synchronization

/// The values of an ``ImageHeader`` that the images of one series usually share: its UIDs and descriptions, the
/// pixel layout, the spacing attributes. The header's public properties of the same names read and write them.
struct ImageAttributes: Sendable {
    var sopClassUID: String?
    var studyInstanceUID: String?
    var seriesInstanceUID: String?
    var frameOfReferenceUID: String?
    var modality: String?
    var seriesDescription: String?
    var imageType: [String] = []
    var transferSyntaxUID = ""
    var hasPreamble = false
    var rows = 0
    var columns = 0
    var bitsAllocated = 0
    var bitsStored = 0
    var highBit = 0
    var isSigned = false
    var samplesPerPixel = 1
    var photometricInterpretation: String?
    var pixelPadding: ClosedRange<Int>?
    var gantryTilt: Double?
    var spacingBetweenSlices: Double?
    var sliceThickness: Double?
    var invalidAttributes: [String] = []

    /// Whether every value is the same: texts compared byte for byte (String's own equality is Unicode canonical
    /// equivalence, which would let one image's UID stand in for another's different bytes), numbers bit for bit.
    func isIdentical(to other: ImageAttributes) -> Bool {
        func same(_ a: String?, _ b: String?) -> Bool {
            switch (a, b) {
            case (nil, nil): true
            case let (a?, b?): a.utf8.elementsEqual(b.utf8)
            default: false
            }
        }
        func same(_ a: Double?, _ b: Double?) -> Bool { a?.bitPattern == b?.bitPattern }
        func same(_ a: [String], _ b: [String]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
        }
        return rows == other.rows && columns == other.columns && bitsAllocated == other.bitsAllocated
            && bitsStored == other.bitsStored && highBit == other.highBit && isSigned == other.isSigned
            && samplesPerPixel == other.samplesPerPixel && hasPreamble == other.hasPreamble
            && pixelPadding == other.pixelPadding && same(gantryTilt, other.gantryTilt)
            && same(spacingBetweenSlices, other.spacingBetweenSlices) && same(sliceThickness, other.sliceThickness)
            && same(seriesInstanceUID, other.seriesInstanceUID) && same(sopClassUID, other.sopClassUID)
            && same(studyInstanceUID, other.studyInstanceUID) && same(frameOfReferenceUID, other.frameOfReferenceUID)
            && same(modality, other.modality) && same(seriesDescription, other.seriesDescription)
            && same(transferSyntaxUID, other.transferSyntaxUID)
            && same(photometricInterpretation, other.photometricInterpretation)
            && same(imageType, other.imageType) && same(invalidAttributes, other.invalidAttributes)
    }

    /// A hash of the values that most often tell two sets apart; ``isIdentical(to:)`` decides.
    var fingerprint: Int {
        var hasher = Hasher()
        for text in [seriesInstanceUID, sopClassUID, transferSyntaxUID] {
            var copy = text ?? ""
            copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
        hasher.combine(rows)
        hasher.combine(columns)
        hasher.combine(bitsStored)
        hasher.combine(sliceThickness)
        return hasher.finalize()
    }
}

/// One set of ``ImageAttributes``, never changed once made: headers with exactly these values share it, and a
/// header that changes one makes a set of its own (copy on write).
final class SharedImageAttributes: Sendable, CustomDebugStringConvertible {
    let values: ImageAttributes

    init(_ values: ImageAttributes) { self.values = values }

    var debugDescription: String { String(reflecting: values) }
}

/// The attribute sets seen during one scan, so that headers with identical values keep one copy.
///
/// Why: a run keeps the headers of every planned series until the series is done, and a scan of thousands of
/// series keeps them for hours. Each header read its texts and layout from its own file: a few hundred bytes per
/// image that every other image of its series repeats. Shared as each header is read, the copy made from the file
/// is freed at once and its memory taken by the next one, and a series of 80 files keeps one set instead of 80.
final class ImageAttributesPool: Sendable {
    private let known = Mutex<[Int: [SharedImageAttributes]]>([:])

    /// The set the pool holds with `candidate`'s values, or `candidate` itself if it is the first.
    func shared(_ candidate: SharedImageAttributes) -> SharedImageAttributes {
        let key = candidate.values.fingerprint
        return known.withLock { known in
            if let match = known[key]?.first(where: { $0.values.isIdentical(to: candidate.values) }) { return match }
            known[key, default: []].append(candidate)
            return candidate
        }
    }
}
