import Foundation
import Hounsfield
import Testing

/// Bad input never crashes or hangs: each file is excluded or rejected with a reason that names it.
@Suite("Bad inputs")
struct BadInputTests {
    static let realFiles: [String] = {
        let folder = TestSupport.testdata("bad-inputs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }()

    @Test("each broken file from the shared set is excluded or rejected, naming the file", arguments: realFiles)
    func sharedBadFile(_ name: String) async throws {
        let path = TestSupport.testdata("bad-inputs/\(name)")
        try await expectRejectedOrExcluded(path)
    }

    @Test("the corrupt no_meta.dcm (stray byte before the first tag) is excluded with the bytes it found")
    func strayLeadingByte() async throws {
        let scan = try await SeriesScanner().scan([TestSupport.testdata("syntax-set/no_meta.dcm")])
        #expect(scan.series.isEmpty)
        let exclusion = try #require(scan.excluded.first)
        #expect(exclusion.kind == .notDICOM)
        #expect(exclusion.file.hasSuffix("no_meta.dcm") && exclusion.reason.contains("20 08 00 05"))
    }

    enum Damage: String, CaseIterable, Sendable {
        case empty, preambleOnly, garbageAfterPreamble, truncatedHeader, truncatedPixels, shortPixels
        case wrongTransferSyntax, randomBytes
    }

    @Test("damaged synthetic files are excluded or rejected, never a crash or a wrong volume", arguments: Damage.allCases)
    func damaged(_ damage: Damage) async throws {
        let folder = TestSupport.temporaryFolder("damaged-\(damage.rawValue)")
        defer { TestSupport.remove(folder) }
        let source = try TestSupport.small(.explicit, slices: 1).write(to: folder + "/good")[0]
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        switch damage {
        case .empty: bytes = []
        case .preambleOnly: bytes = Array(bytes.prefix(132))
        case .garbageAfterPreamble:
            var generator = SystemRandomNumberGenerator()
            bytes = Array(bytes.prefix(132)) + (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case .truncatedHeader: bytes = Array(bytes.prefix(400))
        case .truncatedPixels: bytes = Array(bytes.prefix(bytes.count - 1000))
        case .shortPixels:
            // Keep the Pixel Data element but declare and hold fewer bytes than Rows × Columns need.
            let length = 48 * 48 * 2
            let header = Array(bytes.prefix(bytes.count - length))
            let lengthField = header.count - 4
            bytes = header + Array(repeating: 0, count: 100)
            bytes[lengthField] = 100
            bytes[lengthField + 1] = 0
            bytes[lengthField + 2] = 0
            bytes[lengthField + 3] = 0
        case .wrongTransferSyntax:
            // Claim explicit big endian (same UID length) for a little-endian data set.
            let claimed = Array("1.2.840.10008.1.2.2".utf8), actual = Array("1.2.840.10008.1.2.1".utf8)
            let at = try #require(bytes.firstRange(of: actual))
            bytes.replaceSubrange(at, with: claimed)
        case .randomBytes:
            var generator = SystemRandomNumberGenerator()
            bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let path = folder + "/damaged.dcm"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try await expectRejectedOrExcluded(path, allowDecodedImage: damage == .wrongTransferSyntax)
    }

    @Test("one bad file in a folder does not stop the good series")
    func badFileBesideGoodSeries() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        try TestSupport.small().write(to: folder)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/broken.dcm"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        let scan = try await SeriesScanner().scan([folder])
        #expect(scan.series.count == 1)
        #expect(scan.series[0].size.z == 8)
        #expect(Set(scan.excluded.map { URL(fileURLWithPath: $0.file).lastPathComponent }) == ["broken.dcm", "notes.txt"])
        _ = try await scan.series[0].loadVolume()
    }

    @Test("a path that does not exist is an error naming it")
    func missingPath() async {
        await #expect {
            _ = try await SeriesScanner().scan(["/nonexistent/hounsfield"])
        } throws: { error in
            (error as? DICOMError)?.description.contains("/nonexistent/hounsfield") == true
        }
    }

    /// Scanning must exclude the file with its name in the reason, or find a series whose decode either fails with
    /// an error naming the file or (only where the damage can leave valid data) succeeds.
    private func expectRejectedOrExcluded(_ path: String, allowDecodedImage: Bool = false) async throws {
        let scan = try await SeriesScanner().scan([path])
        let name = URL(fileURLWithPath: path).lastPathComponent
        for exclusion in scan.excluded {
            #expect(exclusion.file.hasSuffix(name))
            #expect(!exclusion.reason.isEmpty)
        }
        for series in scan.series {
            do {
                _ = try await series.loadVolume(.asAcquired)
                #expect(allowDecodedImage, "\(name) decoded although it is damaged")
            } catch {
                #expect(error.description.contains(name), "error must name the file: \(error)")
            }
        }
        #expect(scan.excluded.count + scan.series.count >= 1)
    }
}
