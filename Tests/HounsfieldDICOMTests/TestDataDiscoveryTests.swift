import Foundation
import Hounsfield
import Testing

/// Discovery over the whole shared test data at once: CT cases, every transfer syntax, broken files, and the label
/// cases with their NIfTI and NRRD files. Nothing may crash, and every file must end up in a series or excluded
/// with its reason.
@Suite("Discovery over all the test data")
struct TestDataDiscoveryTests {
    @Test("every file is in a series or excluded with a reason; label maps and screenshots say what they are")
    func everyFileAccountedFor() async throws {
        let root = TestSupport.testdata.path
        let walker = FileManager.default.enumerator(atPath: root)
        let files = (walker?.allObjects as? [String] ?? []).filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder) && !isFolder.boolValue
        }
        #expect(files.count > 150)
        let scan = try await SeriesScanner().scan([root])
        #expect(scan.fileCount == files.count)
        #expect(scan.symbolicLinksFollowed == 0 && scan.notes.isEmpty)

        let inSeries = Set(scan.series.flatMap { $0.images.map(\.source.name) })
        var exclusions: [String: [ExcludedFile]] = [:]
        for exclusion in scan.excluded {
            // One frame of a multi-frame object is named "file [frame n]".
            let file = exclusion.file.components(separatedBy: " [frame ").first!
            exclusions[file, default: []].append(exclusion)
        }
        for name in files {
            let path = root + "/" + name
            guard !inSeries.contains(path) else { continue }
            let reasons = exclusions[path] ?? []
            #expect(!reasons.isEmpty, "\(name) is neither in a series nor excluded")
            #expect(reasons.allSatisfy { !$0.reason.isEmpty })
        }

        func exclusion(_ name: String) -> ExcludedFile? { exclusions[root + "/" + name]?.first }
        // NIfTI and NRRD label maps, and the reference files, are not DICOM.
        for name in files where [".nii", ".nii.gz", ".nrrd", ".json", ".md", ".txt"].contains(where: name.hasSuffix) {
            #expect(exclusion(name)?.kind == .notDICOM, "\(name): \(exclusion(name)?.reason ?? "no exclusion")")
        }
        // Colour screenshots and 1-bit segmentations: unsupported, with what they are.
        for name in ["S4010_I40", "S4010_I50", "S4010_I60"] {
            let reason = exclusion("ct-philips-multiseries-scout/" + name)?.reason ?? ""
            #expect(reason.contains("colour image (3 samples per pixel"), "\(reason)")
        }
        for name in ["liver-3slice/seg/liver.dcm", "liver-3slice/seg/partial_overlaps.dcm",
                     "small-fractional/seg/seg_image_ct_binary.dcm", "small-fractional/seg/seg_image_ct_binary_overlap.dcm"] {
            let found = exclusion("labels-dicom-seg/" + name)
            #expect(found?.kind == .unsupported)
            #expect(found?.reason.contains("1-bit pixel data (BitsAllocated 1, a binary DICOM Segmentation)") == true,
                    "\(found?.reason ?? "no exclusion")")
        }
    }
}
