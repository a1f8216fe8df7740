import Foundation
import Hounsfield
import Testing

/// Discovery over the whole shared test data at once: CT cases, every transfer syntax, broken files, and the label
/// cases with their NIfTI and NRRD files. Nothing may crash, and every file must end up in a series, among the label
/// objects, or excluded with its reason.
@Suite("Discovery over all the test data")
struct TestDataDiscoveryTests {
    @Test("every file is in a series, a label object, or excluded with a reason; label maps and screenshots say what they are")
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

        let inSeries = Set(scan.series.flatMap { $0.images.map(\.source.name) } + scan.labelObjects.map(\.source.name))
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
        // SEG and RTSTRUCT files are label objects, each paired with the series it references.
        let labels = Dictionary(uniqueKeysWithValues: scan.labelObjects.map { ($0.source.name, $0) })
        for name in files where name.hasPrefix("labels-dicom-seg/") && name.contains("/seg/")
            || name.hasPrefix("labels-rtstruct/") && name.contains("/rtstruct/")
        {
            let label = labels[root + "/" + name]
            #expect(label != nil, "\(name): \(exclusion(name)?.reason ?? "not a label object")")
            guard let label else { continue }
            #expect(label.kind == (name.contains("/seg/") ? .segmentation : .structureSet))
            #expect(!label.classes.isEmpty && label.sopInstanceUID != nil)
            #expect(scan.referencedSeries(of: label) != nil, "\(name) is not paired with its series")
        }
        #expect(scan.labelObjects.count == 11)
    }
}
