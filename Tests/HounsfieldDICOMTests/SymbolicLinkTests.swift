#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hounsfield
@testable import HounsfieldDICOM
import HounsfieldSynthesis
import Testing

/// Inputs as users have them: a dataset folder that is a farm of symbolic links to study folders, links to files,
/// link loops and links whose target is gone.
@Suite("Discovery follows symbolic links")
struct SymbolicLinkTests {
    /// Three synthetic series in `studies/`, and a farm whose entries are links to them.
    static func farm(in root: String) throws -> (studies: [String], farm: String) {
        var studies: [String] = []
        for index in 1...3 {
            var series = TestSupport.small(slices: 4, size: 32)
            series.seed = UInt64(100 + index)
            studies.append(try TestSupport.synthetic(series, in: root + "/studies", name: "study-\(index)"))
        }
        let farm = root + "/farm"
        try FileManager.default.createDirectory(atPath: farm, withIntermediateDirectories: true)
        for (index, study) in studies.enumerated() {
            // Relative and absolute targets, as `ln -s` makes both.
            let target = index == 0 ? "../studies/study-1" : study
            try FileManager.default.createSymbolicLink(atPath: farm + "/patient-\(index + 1)", withDestinationPath: target)
        }
        return (studies, farm)
    }

    @Test("a folder of links to study folders scans to every series")
    func linkFarm() async throws {
        let root = TestSupport.temporaryFolder("link-farm")
        defer { TestSupport.remove(root) }
        let (_, farm) = try Self.farm(in: root)
        let scan = try await SeriesScanner().scan([farm])
        #expect(scan.series.count == 3)
        #expect(scan.series.allSatisfy { $0.slices.count == 4 })
        #expect(scan.fileCount == 12)
        #expect(scan.excluded.isEmpty, "\(scan.excluded)")
        #expect(scan.symbolicLinksFollowed == 3)
        #expect(scan.notes.isEmpty)
        #expect(scan.noSeriesMessage == nil)
        // Files are listed under the path the user gave, through the link.
        #expect(scan.series.allSatisfy { $0.images.allSatisfy { $0.source.name.hasPrefix(farm + "/patient-") } })

        // A link to the farm itself, given as the input, and links to single files.
        try FileManager.default.createSymbolicLink(atPath: root + "/dataset", withDestinationPath: farm)
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/studies/study-2").sorted()
        let loose = root + "/loose"
        try FileManager.default.createDirectory(atPath: loose, withIntermediateDirectories: true)
        for file in files {
            try FileManager.default.createSymbolicLink(atPath: loose + "/" + file, withDestinationPath: root + "/studies/study-2/" + file)
        }
        let viaLinks = try await SeriesScanner().scan([root + "/dataset", loose])
        #expect(viaLinks.series.count == 3)
        #expect(viaLinks.symbolicLinksFollowed == 1 + 3 + files.count)  // the input, the farm's, the files' links
        // study-2 is reached twice (through the farm and through its linked files): the copies are duplicates.
        #expect(viaLinks.excluded.count == 4 && viaLinks.excluded.allSatisfy { $0.kind == .duplicate })
    }

    @Test("a link loop and a second link to one folder are entered once and reported")
    func loops() async throws {
        let root = TestSupport.temporaryFolder("link-loop")
        defer { TestSupport.remove(root) }
        let (studies, farm) = try Self.farm(in: root)
        // A link back up to the farm (a cycle), one to the root above it, one that points at itself, and a second
        // link to study-1.
        try FileManager.default.createSymbolicLink(atPath: studies[1] + "/up", withDestinationPath: "../../farm")
        try FileManager.default.createSymbolicLink(atPath: farm + "/root", withDestinationPath: root)
        try FileManager.default.createSymbolicLink(atPath: farm + "/self", withDestinationPath: "self")
        try FileManager.default.createSymbolicLink(atPath: farm + "/zz-second", withDestinationPath: studies[0])

        // A cycle followed for ever would never return; the suite's time limit catches that.
        let scan = try await SeriesScanner().scan([farm])
        #expect(scan.series.count == 3)
        #expect(scan.series.allSatisfy { $0.slices.count == 4 })
        // Every file is read once: the folders reached again are not entered again.
        #expect(scan.fileCount == 12)
        #expect(!scan.excluded.contains { $0.kind == .duplicate })
        let loops = scan.notes.filter { $0.hasPrefix("symbolic link loop: ") }
        #expect(loops.contains { $0.contains("/up → \(farm), not entered again") }, "\(scan.notes)")
        #expect(loops.contains { $0.contains("\(farm)/root/farm → \(farm)") || $0.contains("\(farm)/root → ") },
                "\(scan.notes)")
        #expect(scan.notes.contains("symbolic link \(farm)/zz-second → \(farm)/patient-1, a folder already read: not entered again"),
                "\(scan.notes)")
        // A link to itself has nothing to enter: it is excluded, with why.
        let selfLink = try #require(scan.excluded.first { $0.file == farm + "/self" })
        #expect(selfLink.kind == .unreadable)
        #expect(selfLink.reason == "a symbolic link to self that leads back to itself (a loop of links): nothing to read")
    }

    @Test("a dangling link is an excluded file with its reason")
    func dangling() async throws {
        let root = TestSupport.temporaryFolder("link-dangling")
        defer { TestSupport.remove(root) }
        let (_, farm) = try Self.farm(in: root)
        try FileManager.default.createSymbolicLink(atPath: farm + "/gone", withDestinationPath: root + "/nowhere")
        let scan = try await SeriesScanner().scan([farm])
        #expect(scan.series.count == 3)
        let exclusion = try #require(scan.excluded.first { $0.file == farm + "/gone" })
        #expect(exclusion.kind == .unreadable)
        #expect(exclusion.reason == "a symbolic link to \(root)/nowhere, which does not exist (a dangling link)")
        #expect(scan.symbolicLinksFollowed == 3)

        // A dangling link given as the input itself is an error that says so.
        try FileManager.default.createSymbolicLink(atPath: root + "/input", withDestinationPath: root + "/nowhere")
        await #expect(throws: DICOMError.unreadable(
            file: root + "/input", reason: "a symbolic link to \(root)/nowhere, which does not exist")) {
            try await SeriesScanner().scan([root + "/input"])
        }
    }

    @Test("an empty result says where it looked and why nothing formed a series")
    func noSeriesMessage() async throws {
        let root = TestSupport.temporaryFolder("no-series")
        defer { TestSupport.remove(root) }
        let empty = root + "/empty"
        let other = root + "/other"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let nothing = try await SeriesScanner().scan([empty])
        #expect(nothing.noSeriesMessage == "no series found under \(empty): 0 files read (no files: an empty folder, or only hidden ones)")

        try Data("not dicom".utf8).write(to: URL(fileURLWithPath: other + "/notes.txt"))
        try Data("neither".utf8).write(to: URL(fileURLWithPath: other + "/b.txt"))
        try FileManager.default.createSymbolicLink(atPath: other + "/gone", withDestinationPath: root + "/nowhere")
        let scan = try await SeriesScanner().scan([empty, other])
        #expect(scan.noSeriesMessage
            == "no series found under \(empty), \(other): 2 files read, 3 excluded (not DICOM: 2, unreadable: 1)")
    }

    /// The walk stays a `readdir` walk: listing 10,000 files (here 9,500, through 20 links to folders, one dangling)
    /// takes well under a second, because regular files are never `stat`ed.
    @Test("listing 10,000 files through links stays fast")
    func fast() throws {
        let root = TestSupport.temporaryFolder("link-fast")
        defer { TestSupport.remove(root) }
        let data = root + "/data"
        for folder in 0..<20 {
            let path = data + "/f\(folder)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in 0..<500 { close(open(path + "/\(file)", O_CREAT | O_WRONLY, 0o644)) }  // empty files, quickly
            try FileManager.default.createSymbolicLink(atPath: root + "/link-\(folder)", withDestinationPath: path)
        }
        try FileManager.default.removeItem(atPath: data + "/f0")  // one dangling link among them
        // Its speed (no stat of regular files) is measured in the benchmarks, not here.
        let listing = try FileEnumerator.files(under: [root + "/link-1", root])
        #expect(listing.files.count == 19 * 500)
        #expect(listing.linksFollowed == 20)  // the input and the 19 in the folder (one leads to a folder read before)
        #expect(listing.unlistable.map(\.file) == [root + "/link-0"])
    }
}
