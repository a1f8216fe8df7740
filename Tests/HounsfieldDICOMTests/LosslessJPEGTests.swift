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
