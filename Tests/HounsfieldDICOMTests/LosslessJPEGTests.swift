import Foundation
import Hounsfield
import Testing

/// Lossless JPEG goes to Hounsfield's own decoder first and to DCMTK for any frame it declines. DCMTK's encoder
/// (`dcmcjpeg`) makes the inputs from files whose values are known, with every predictor; the decoded values must be
/// the originals exactly. Serialized: the tests read process-wide counters of which decoder ran, and no other suite
/// makes frames that ours declines.
@Suite("Lossless JPEG: our decoder, DCMTK's values", .serialized)
struct LosslessJPEGTests {
    /// Sources with different precisions and layouts: the suite's own CT (16-bit signed), a real CT slice, a real MR
    /// slice, and a real two-frame enhanced CT.
    static let sources = ["synthetic", "syntax-set/CT_small.dcm", "syntax-set/MR_small.dcm", "multiframe-set/eCT_Supplemental.dcm"]

    @Test("every predictor (selection value 1–7) decodes to exactly the original values, by our decoder",
          arguments: sources, 1...7)
    func predictor(_ source: String, _ selection: Int) async throws {
        let folder = TestSupport.temporaryFolder("ljpeg-\(selection)")
        defer { TestSupport.remove(folder) }
        let (original, compressed, frames) = try Self.compress(source, in: folder, options: ["+el", "+sv", "\(selection)"])
        let before = DecoderStatistics.losslessJPEGFrames
        let decoded = try await Self.load(compressed)
        let after = DecoderStatistics.losslessJPEGFrames
        #expect(decoded.voxels == (try await Self.load(original)).voxels)
        #expect(after.declined == before.declined, "our decoder declined a frame DCMTK wrote")
        #expect(after.decoded - before.decoded >= frames)
    }

    @Test("a frame our decoder does not take (point transform) is decoded by DCMTK instead")
    func declinedFrameGoesToDCMTK() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let (original, compressed, frames) = try Self.compress("synthetic", in: folder, options: ["+el", "+sv", "1", "+pt", "1"])
        let before = DecoderStatistics.losslessJPEGFrames
        let decoded = try await Self.load(compressed)
        let after = DecoderStatistics.losslessJPEGFrames
        #expect(after.declined - before.declined >= frames)
        // A point transform of 1 drops each stored value's lowest bit: at most 1 HU off.
        let expected = try await Self.load(original).voxels
        #expect(zip(decoded.voxels, expected).allSatisfy { abs($0 - $1) <= 1 })
        #expect(decoded.voxels != expected)
    }

    /// Restart intervals: no encoder on the test machine writes them, so the suite's own encoder
    /// (`LosslessJPEGEncoder`) re-encodes the stored values of files that dcmcjpeg compressed, with restarts every
    /// few rows, and puts that stream in their place. Ours must decode it to the original values, and so must
    /// DCMTK (`dcmdjpeg`), which shows that the stream, not only our reading of it, is right.
    @Test("restart intervals (whole rows) decode to the original values, by our decoder and by DCMTK",
          arguments: sources.prefix(3), [(predictor: 1, rows: 1), (predictor: 4, rows: 3), (predictor: 7, rows: 16)])
    func restartIntervals(_ source: String, _ layout: (predictor: Int, rows: Int)) async throws {
        let folder = TestSupport.temporaryFolder("ljpeg-restart-\(layout.predictor)")
        defer { TestSupport.remove(folder) }
        let (original, compressed, frames) = try Self.compress(source, in: folder, options: ["+el", "+sv", "1"])
        let restarted = folder + "/restarted", dcmtk = folder + "/dcmtk"
        for path in [restarted, dcmtk] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        for name in try FileManager.default.contentsOfDirectory(atPath: original) {
            let samples = try Self.storedSamples(of: original + "/" + name)
            var file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: compressed + "/" + name)))
            let frame = try #require(Self.frameHeader(in: file), "no lossless frame header in \(name)")
            let encoder = LosslessJPEGEncoder(precision: frame.precision, predictor: layout.predictor, restartRows: layout.rows)
            let mask = UInt16(truncatingIfNeeded: (1 << frame.precision) - 1)
            try Self.replaceFragments(in: &file, with: encoder.encode(samples.map { $0 & mask }, rows: frame.rows, columns: frame.columns))
            try Data(file).write(to: URL(fileURLWithPath: restarted + "/" + name))
            try TestSupport.run("dcmdjpeg", [restarted + "/" + name, dcmtk + "/" + name])
        }
        let before = DecoderStatistics.losslessJPEGFrames
        let decoded = try await Self.load(restarted)
        let after = DecoderStatistics.losslessJPEGFrames
        let expected = try await Self.load(original).voxels
        func differing(_ voxels: [Float32]) -> Int { zip(voxels, expected).filter { $0 != $1 }.count + abs(voxels.count - expected.count) }
        #expect(differing(decoded.voxels) == 0, "our decoder")
        #expect(after.declined == before.declined, "our decoder declined a frame with restart intervals")
        #expect(after.decoded - before.decoded >= frames)
        #expect(differing(try await Self.load(dcmtk).voxels) == 0, "DCMTK reads the test's stream differently")
    }

    /// The stored words of an uncompressed file's Pixel Data (the last element; explicit or implicit VR, little
    /// endian, as the sources are).
    static func storedSamples(of path: String) throws -> [UInt16] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let tag: [UInt8] = [0xE0, 0x7F, 0x10, 0x00]
        let start = try #require((0...(bytes.count - 12)).last { Array(bytes[$0..<($0 + 4)]) == tag }, "no Pixel Data in \(path)")
        let explicit = bytes[start + 4] == UInt8(ascii: "O")
        let lengthAt = start + (explicit ? 8 : 4)
        let length = Int(bytes[lengthAt]) | Int(bytes[lengthAt + 1]) << 8 | Int(bytes[lengthAt + 2]) << 16 | Int(bytes[lengthAt + 3]) << 24
        let data = bytes[(lengthAt + 4)..<(lengthAt + 4 + length)]
        return stride(from: data.startIndex, to: data.endIndex - 1, by: 2).map { UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8 }
    }

    /// Precision and size from the first lossless frame header (SOF3) in the file.
    static func frameHeader(in file: [UInt8]) -> (precision: Int, rows: Int, columns: Int)? {
        guard let at = (0..<(file.count - 9)).first(where: { file[$0] == 0xFF && file[$0 + 1] == 0xC3 }) else { return nil }
        return (Int(file[at + 4]), Int(file[at + 5]) << 8 | Int(file[at + 6]), Int(file[at + 7]) << 8 | Int(file[at + 8]))
    }

    /// Replaces everything inside the encapsulated Pixel Data (the last element) with an empty offset table and one
    /// fragment holding `stream`.
    static func replaceFragments(in file: inout [UInt8], with stream: [UInt8]) throws {
        let header: [UInt8] = [0xE0, 0x7F, 0x10, 0x00, UInt8(ascii: "O"), UInt8(ascii: "B"), 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        let start = try #require((0...(file.count - 12)).last { Array(file[$0..<($0 + 12)]) == header },
                                 "no encapsulated Pixel Data")
        let fragment = stream.count % 2 == 0 ? stream : stream + [0]
        func item(_ length: Int) -> [UInt8] {
            [0xFE, 0xFF, 0x00, 0xE0] + (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        }
        file = Array(file[..<(start + 12)]) + item(0) + item(fragment.count) + fragment + [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]
    }

    /// Writes the source (a synthetic series or a shared case) into `folder/original` and its dcmcjpeg encoding
    /// into `folder/jpeg`; returns both folders and how many frames were compressed.
    static func compress(_ source: String, in folder: String, options: [String]) throws -> (String, String, Int) {
        let original = folder + "/original", compressed = folder + "/jpeg"
        try FileManager.default.createDirectory(atPath: compressed, withIntermediateDirectories: true)
        if source == "synthetic" {
            try TestSupport.small(.explicit, slices: 4).write(to: original)
        } else {
            try FileManager.default.createDirectory(atPath: original, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestSupport.testdata(source), toPath: original + "/source.dcm")
        }
        var frames = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: original) {
            try TestSupport.run("dcmcjpeg", options + [original + "/" + name, compressed + "/" + name])
            frames += source.contains("eCT_") ? 2 : 1
        }
        return (original, compressed, frames)
    }

    /// The one series in `folder`, as acquired (stored values × slope + intercept, no resampling).
    static func load(_ folder: String) async throws -> Volume<Float32> {
        let scan = try await SeriesScanner().scan([folder])
        let series = try #require(scan.series.first, "no series in \(folder): \(scan.excluded)")
        return try await series.loadVolume(.asAcquired)
    }
}
