import Foundation
import HounsfieldCore
@testable import HounsfieldDICOM
import HounsfieldSynthesis
import Testing

/// The native little-endian parser reads exactly what DCMTK reads, or declines and leaves the file to DCMTK.
@Suite("Little-endian parser: same headers and pixels as DCMTK")
struct LittleEndianParserTests {
    /// Every file of the shared test data (real CTs, every transfer syntax, multi-frame objects, broken files).
    static let testdataFiles: [String] = {
        let root = TestSupport.testdata
        let walker = FileManager.default.enumerator(atPath: root.path)
        return (walker?.allObjects as? [String] ?? []).filter {
            !$0.hasSuffix(".json") && !$0.hasSuffix(".md") && !$0.hasSuffix(".txt")
                && !((try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent($0).path)[.type])
                    as? FileAttributeType == .typeDirectory)
        }.sorted()
    }()

    /// Files the parser must read itself: a decline there would quietly send everyday CTs back to DCMTK.
    static let mustReadNatively = [
        "ct-ge-tilt-varspacing/01.dcm", "syntax-set/CT_small.dcm", "syntax-set/693_J2KR.dcm",
        "multiframe-set/eCT_Supplemental.dcm",
    ]

    @Test("every test-data file gives the header DCMTK gives, or is left to DCMTK", arguments: testdataFiles)
    func sameHeaderAsDCMTK(_ name: String) throws {
        let source = ImageSource.file(TestSupport.testdata(name))
        let native = try? source.open(headerOnly: true)
        let reference = try? source.open(headerOnly: true, reader: .dcmtk)
        if Self.mustReadNatively.contains(name) { #expect(native?.isReadNatively == true) }
        guard let native, native.isReadNatively else { return }
        let dcmtk = try #require(reference, "the parser read a file DCMTK refuses")
        #expect(Self.describe(native, source) == Self.describe(dcmtk, source))
        #expect(native.transferSyntaxUID == dcmtk.transferSyntaxUID)
        #expect(native.hasPreamble == dcmtk.hasPreamble)
    }

    @Test("uncompressed pixels read natively equal DCMTK's, byte for byte", arguments: testdataFiles)
    func samePixelsAsDCMTK(_ name: String) throws {
        let source = ImageSource.file(TestSupport.testdata(name))
        guard let header = try? source.open(headerOnly: true), header.isReadNatively,
              let native = try? source.open(headerOnly: false), native.isReadNatively
        else { return }
        let image = ImageHeader(reading: header, from: source)
        guard image.isImage else { return }
        let dcmtk = try source.open(headerOnly: false, reader: .dcmtk)
        if let refusal = Self.refusedByDesign(image) {
            // Not an image a CT volume can hold: both readers must refuse it the same way (.unsupported, saying why),
            // and discovery must exclude it with that reason before anyone asks for its pixels.
            for object in [native, dcmtk] {
                do {
                    _ = try Self.pixels(object, image)
                    Issue.record("\(refusal): decoded, but it should be refused")
                } catch let failure as NativeFailure {
                    #expect(failure.category == .unsupported, "\(refusal): \(failure)")
                    #expect(failure.message.contains(image.samplesPerPixel != 1 ? "samples per pixel" : "BitsAllocated 1"))
                }
            }
            guard case .failure(let exclusion) = SeriesScanner.readHeader(source) else {
                Issue.record("\(refusal): discovery took it as an image")
                return
            }
            #expect(exclusion.kind == .unsupported)
            #expect(exclusion.reason.contains(image.samplesPerPixel != 1 ? "colour" : "BitsAllocated 1"), "\(exclusion.reason)")
            return
        }
        #expect(try Self.pixels(native, image) == (try Self.pixels(dcmtk, image)))
    }

    /// Objects whose pixels are refused by design, and why: colour images (the RGB "exam summary" screenshots of
    /// `ct-philips-multiseries-scout`) and 1-bit pixel data (binary DICOM SEG objects under `labels-dicom-seg`,
    /// whose frames are label masks that a label reader, not the CT decoder, reads). Nil for every other image,
    /// whose pixels must be compared.
    static func refusedByDesign(_ image: ImageHeader) -> String? {
        if image.samplesPerPixel != 1 { return "a colour image (\(image.samplesPerPixel) samples per pixel)" }
        if image.bitsAllocated == 1 { return "1-bit pixel data (a binary segmentation)" }
        return nil
    }

    @Test("synthetic series in every syntax: same headers and pixels (lossless JPEG through our decoder directly)",
          arguments: SyntheticTransferSyntax.allCases)
    func synthetic(_ syntax: SyntheticTransferSyntax) throws {
        let folder = TestSupport.temporaryFolder("parser-\(syntax.rawValue)")
        defer { TestSupport.remove(folder) }
        let files = try TestSupport.small(syntax, slices: 3).write(to: folder)
        let expectsNative = [.explicit, .implicit, .jpegLossless, .jpegLS, .rle, .j2k].contains(syntax)
        let decodesNatively = [.explicit, .implicit, .jpegLossless].contains(syntax)
        for file in files {
            let source = ImageSource.file(file)
            let native = try source.open(headerOnly: true)
            let dcmtk = try source.open(headerOnly: true, reader: .dcmtk)
            #expect(native.isReadNatively == expectsNative)
            #expect(Self.describe(native, source) == Self.describe(dcmtk, source))

            let image = ImageHeader(reading: native, from: source)
            let whole = try source.open(headerOnly: false)
            #expect(whole.isReadNatively == decodesNatively)
            #expect(try Self.pixels(whole, image)
                == (try Self.pixels(try source.open(headerOnly: false, reader: .dcmtk), image)))
        }
    }

    @Test("an object in memory is read like its file")
    func memory() throws {
        let path = TestSupport.testdata("syntax-set/CT_small.dcm")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let source = ImageSource.memory(name: path, bytes: bytes)
        let native = try source.open(headerOnly: false)
        #expect(native.isReadNatively)
        let fromFile = try ImageSource.file(path).open(headerOnly: true, reader: .dcmtk)
        #expect(Self.describe(native, source) == Self.describe(fromFile, source))
    }

    /// A header longer than the parser's first read (as with the large private blocks some scanners write) makes it
    /// read further, and the result is still DCMTK's.
    @Test("a header longer than the first read is read in full", arguments: [40_000, 300_000])
    func longHeader(_ privateBytes: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestSupport.testdata("syntax-set/CT_small.dcm"))))
        let pixelData = try #require(bytes.firstRange(of: [0xE0, 0x7F, 0x10, 0x00, 0x4F]))  // (7FE0,0010) O…
        // A private block just before Pixel Data: creator (7FDF,0010) LO, then (7FDF,1000) OB of privateBytes bytes.
        var block: [UInt8] = [0xDF, 0x7F, 0x10, 0x00, 0x4C, 0x4F, 0x04, 0x00] + Array("TEST".utf8)
        block += [0xDF, 0x7F, 0x00, 0x10, 0x4F, 0x42, 0, 0]
        block += withUnsafeBytes(of: UInt32(privateBytes).littleEndian, Array.init)
        block += (0..<privateBytes).map { UInt8(truncatingIfNeeded: $0 * 7) }
        bytes.insert(contentsOf: block, at: pixelData.lowerBound)
        let folder = TestSupport.temporaryFolder("long-header-\(privateBytes)")
        defer { TestSupport.remove(folder) }
        let path = folder + "/long.dcm"
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let source = ImageSource.file(path)
        let native = try source.open(headerOnly: true)
        #expect(native.isReadNatively)
        #expect(Self.describe(native, source) == Self.describe(try source.open(headerOnly: true, reader: .dcmtk), source))
        let image = ImageHeader(reading: native, from: source)
        #expect(image.rows == 128 && image.columns == 128)
        let whole = try source.open(headerOnly: false)
        #expect(whole.isReadNatively)
        #expect(try Self.pixels(whole, image)
            == (try Self.pixels(try source.open(headerOnly: false, reader: .dcmtk), image)))
    }

    /// Damaged headers: random bytes changed, or the object cut anywhere. The parser must never crash, and when it
    /// still reads the object and so does DCMTK, both must agree.
    @Test("damaged headers never crash it, and what it reads DCMTK reads alike", arguments: [
        "syntax-set/CT_small.dcm", "ct-ge-tilt-varspacing/05.dcm", "multiframe-set/eCT_Supplemental.dcm",
    ])
    func damaged(_ name: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestSupport.testdata(name))))
        let headerEnd = min(original.count, 4096)
        var random = SplitMix64(seed: 0x5EED)
        var disagreements: [String] = []
        for round in 0..<300 {
            var bytes = original
            if round % 3 == 0 {
                bytes.removeLast(bytes.count - Int(random.next() % UInt64(headerEnd)))
            } else {
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    bytes[132 + Int(random.next() % UInt64(headerEnd - 132))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            let source = ImageSource.memory(name: "\(name) #\(round)", bytes: bytes)
            for headerOnly in [true, false] {
                guard let native = try? source.open(headerOnly: headerOnly), native.isReadNatively else { continue }
                guard let dcmtk = try? source.open(headerOnly: headerOnly, reader: .dcmtk) else { continue }
                if Self.describe(native, source) != Self.describe(dcmtk, source) {
                    disagreements.append("round \(round)")
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
    }

    @Test("DS and IS values are read as DCMTK reads them")
    func numberText() {
        #expect(LittleEndianDataSet.decimal("  -1.5e3mm") == -1500)
        #expect(LittleEndianDataSet.decimal(".5") == 0.5)
        #expect(LittleEndianDataSet.decimal("+2.") == 2)
        #expect(LittleEndianDataSet.decimal("1e") == 1)
        #expect(LittleEndianDataSet.decimal("-") == nil)
        #expect(LittleEndianDataSet.decimal("abc") == nil)
        #expect(LittleEndianDataSet.decimal("") == nil)
        #expect(LittleEndianDataSet.integer("1A") == 1)
        #expect(LittleEndianDataSet.integer(" +12") == 12)
        #expect(LittleEndianDataSet.integer("-7") == -7)
        #expect(LittleEndianDataSet.integer("-") == nil)
        #expect(LittleEndianDataSet.integer("x1") == nil)
    }

    /// The decoded samples of every frame of `object`, laid out as `image` says.
    static func pixels(_ object: DICOMObject, _ image: ImageHeader) throws -> [UInt8] {
        try object.withDecodedPixels(
            rows: image.rows, columns: image.columns, frames: image.frames.count,
            bitsAllocated: image.bitsAllocated, samplesPerPixel: image.samplesPerPixel) { Array($0) }
    }

    /// Everything `ImageHeader` reads, as text: two readers agree when these agree.
    static func describe(_ object: DICOMObject, _ source: ImageSource) -> String {
        String(reflecting: ImageHeader(reading: object, from: source))
    }
}
