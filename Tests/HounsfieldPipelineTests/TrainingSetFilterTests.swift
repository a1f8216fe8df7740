import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

/// What `run` writes from real folders must be a training set: CT volumes only. The Philips folder holds an axial
/// head series beside a scout and an "Exam Summary" of screenshots; the Siemens folder holds four bolus-tracking
/// monitor images at one table position.
@Suite("Run filters: a training set of CT volumes from real folders")
struct TrainingSetFilterTests {
    static let testdata = PipelineTestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    static let philips = testdata.appendingPathComponent("ct-philips-multiseries-scout")
    static let siemens = testdata.appendingPathComponent("ct-siemens-same-position")

    static func configuration(output: URL) -> RunConfiguration {
        var configuration = RunConfiguration(inputs: [philips.path, siemens.path])
        configuration.output.folder = output.path
        configuration.preprocessing.spacing = [2, 2, 5]  // small volumes: the test is about selection
        configuration.privacy.salt = "filters"
        return configuration
    }

    @Test("by default only the axial CT is written; screenshots and bolus images are filtered, each naming its filter")
    func defaults() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let output = root.appendingPathComponent("out")
        let report = try await BatchRun(configuration: Self.configuration(output: output)).run()

        let written = report.series.filter { $0.status == .written }
        #expect(written.map(\.description) == ["STD BRAIN 5MM"])
        #expect(written.first?.slices == 28)
        #expect(OutputFolder(output).manifestEntries().entries.map(\.key) == written.map(\.key))

        let filtered = report.series.filter { $0.status == .filtered }
        #expect(filtered.count == 7)
        #expect(report.counts["filtered"] == 7 && report.counts["written"] == 1 && report.counts["failed"] == nil)
        // The three grey "Exam Summary" pages (copies of the scout, Secondary Capture Image Storage).
        let captures = filtered.filter { $0.description == "Exam Summary" }
        #expect(captures.count == 3)
        for outcome in captures {
            let reason = outcome.reason ?? ""
            #expect(reason.hasPrefix("secondary capture (SOP class Secondary Capture Image Storage 1.2.840.10008.5.1.4.1.1.7, ImageType DERIVED\\SECONDARY\\REF_SURVIEW)"), "\(reason)")
            #expect(reason.hasSuffix("(filters.secondary_captures false)"))
        }
        // The four Siemens bolus-tracking images at one position, split by AcquisitionNumber.
        let bolus = filtered.filter { $0.description != "Exam Summary" }
        #expect(bolus.count == 4)
        for outcome in bolus {
            let reason = outcome.reason ?? ""
            #expect(reason.hasPrefix("one of 4 images at repeated table positions, split into single images by AcquisitionNumber"), "\(reason)")
            #expect(reason.hasSuffix("(filters.repeated_positions false)"))
            #expect(outcome.slices == 1)
        }

        // Files that form no series at all are in the report's excluded list, each with its reason.
        func excluded(_ name: String) -> String? {
            report.excluded.first { URL(fileURLWithPath: $0.file).lastPathComponent == name }?.reason
        }
        #expect(excluded("S1000_I10")?.contains("localizer") == true)
        for page in ["S4010_I40", "S4010_I50", "S4010_I60"] { #expect(excluded(page)?.contains("colour image") == true) }
        #expect(excluded("DIRFILE") != nil)
        #expect(excluded("reference.json")?.contains("not a DICOM file") == true)
    }

    /// Each filter can be lifted on its own, and the next one in line then names itself.
    @Test("opting back in: secondary_captures, repeated_positions, minimum_slices")
    func optingIn() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = Self.configuration(output: root.appendingPathComponent("out"))
        func plan() async throws -> [RunReport.SeriesOutcome] {
            try await BatchRun(configuration: configuration).run(dryRun: true).series
        }

        configuration.filters.secondaryCaptures = true
        var outcomes = try await plan()
        // The screenshots pass the first filter; being single images split off one position, they meet the next.
        #expect(outcomes.filter { $0.description == "Exam Summary" }
            .allSatisfy { $0.status == .filtered && $0.reason?.hasSuffix("(filters.repeated_positions false)") == true })

        configuration.filters.repeatedPositions = true
        outcomes = try await plan()
        #expect(outcomes.filter { $0.status == .filtered }.count == 7)
        #expect(outcomes.filter { $0.status == .filtered }
            .allSatisfy { $0.reason == "1 slice, fewer than the minimum of 2 (filters.minimum_slices)" })

        configuration.filters.minimumSlices = 1
        outcomes = try await plan()
        #expect(outcomes.count == 8 && outcomes.allSatisfy { $0.status == .planned })

        // Everything allowed but secondary captures: only they are filtered.
        configuration.filters.secondaryCaptures = false
        outcomes = try await plan()
        #expect(outcomes.filter { $0.status == .filtered }.map(\.description) == Array(repeating: "Exam Summary", count: 3))
    }

    @Test("a series of one slice is filtered by default, with the minimum it missed")
    func minimumSlices() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try SyntheticSeries(size: 32, slices: 1, spacing: Vector3(0.9, 0.9, 2), seed: 5)
            .write(to: inputs.appendingPathComponent("one").path)
        try SyntheticSeries(size: 32, slices: 2, spacing: Vector3(0.9, 0.9, 2), seed: 6)
            .write(to: inputs.appendingPathComponent("two").path)
        var configuration = RunConfiguration(inputs: [inputs.path])
        configuration.output.folder = root.appendingPathComponent("out").path
        let report = try await BatchRun(configuration: configuration).run(dryRun: true)
        #expect(report.series.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.filtered, .planned])
        let filtered = try #require(report.series.first { $0.status == .filtered })
        #expect(filtered.slices == 1)
        #expect(filtered.reason == "1 slice, fewer than the minimum of 2 (filters.minimum_slices)")
    }
}
