import Foundation
import Testing

@testable import HounsfieldDistributed

/// What the coordinator measures and lists before it leases: study sizes (largest first) and the batches the
/// listing hands to the journal.
@Suite("Study listing: sizes and batches")
struct StudyListingTests {
    static func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("listing-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ bytes: Int, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(count: bytes).write(to: url)
    }

    @Test("a study's size is its regular files, nested folders included; hidden entries skipped; a linked file counts, a linked folder is not entered")
    func sizes() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let study = root.appendingPathComponent("study")
        try Self.write(1000, to: study.appendingPathComponent("a.dcm"))
        try Self.write(200, to: study.appendingPathComponent("series1/b.dcm"))
        try Self.write(30, to: study.appendingPathComponent("series1/deeper/c.dcm"))
        try Self.write(7, to: study.appendingPathComponent(".DS_Store"))
        try Self.write(5000, to: study.appendingPathComponent(".hidden/d.dcm"))
        try Self.write(4, to: root.appendingPathComponent("outside.dcm"))
        try FileManager.default.createSymbolicLink(atPath: study.appendingPathComponent("link.dcm").path,
                                                   withDestinationPath: root.appendingPathComponent("outside.dcm").path)
        try FileManager.default.createSymbolicLink(atPath: study.appendingPathComponent("loop").path, withDestinationPath: study.path)
        #expect(FolderSize.total(of: study.path) == 1000 + 200 + 30 + 4)
        #expect(FolderSize.total(of: study.appendingPathComponent("a.dcm").path) == 1000)
        #expect(FolderSize.total(of: study.appendingPathComponent("loop").path) == 1000 + 200 + 30 + 4)
        #expect(FolderSize.total(of: root.appendingPathComponent("missing").path) == 0)
    }

    @Test("batches start at 64 studies and double, in path order, each sized; together they are the whole listing")
    func batches() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        for index in 0..<300 {
            try Self.write(index, to: root.appendingPathComponent(String(format: "s%03d/f.dcm", index)))
        }
        let listing = StudyListing.folders(inputs: [root.path], depth: 1)
        var batches: [[StudyFolder]] = []
        try listing.studies { batches.append($0) }
        #expect(batches.map(\.count) == [64, 128, 108])
        #expect(batches.flatMap { $0 } == (try listing.studies()))
        #expect(batches.flatMap { $0 }.map(\.size) == (0..<300).map(Int64.init))
    }
}
