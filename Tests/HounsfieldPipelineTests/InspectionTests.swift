import Foundation
import Hounsfield
import Synchronization
import Testing

@Suite("Inspection: every series described, bad ones reported, statistics as acquired")
struct InspectionTests {
    /// Two good synthetic series, a garbage file beside one of them, and a third series with a slice cut short.
    struct Folder {
        let root: URL
        let inputs: URL
        let truncated: String
        let garbage: String

        init(_ label: String = #function) throws {
            root = PipelineTestSupport.temporaryFolder(label)
            inputs = root.appendingPathComponent("in")
            try PipelineTestSupport.series(3, in: inputs)
            garbage = inputs.appendingPathComponent("series-0/garbage.dcm").path
            try Data("not a dicom file".utf8).write(to: URL(fileURLWithPath: garbage))
            let victim = inputs.appendingPathComponent("series-2")
            let slice = try FileManager.default.contentsOfDirectory(atPath: victim.path).sorted()[5]
            truncated = victim.appendingPathComponent(slice).path
            let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated))
            try bytes.prefix(bytes.count - 2000).write(to: URL(fileURLWithPath: truncated))
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test("a garbage file and a truncated series are reported; every good series gets statistics; nothing throws")
    func badInputsDoNotStopTheOthers() async throws {
        let folder = try Folder()
        defer { folder.remove() }
        let report = try await Inspection(options: InspectionOptions(statistics: true)).run([folder.inputs.path])

        #expect(report.series.count == 3)
        #expect(report.files == 3 * 12 + 1)
        let failed = report.series.filter { $0.hu == nil }
        #expect(failed.count == 1)
        #expect(report.series.filter { $0.hu != nil }.count == 2)

        let garbage = try #require(report.excluded.first { $0.file == folder.garbage })
        #expect(garbage.kind == .notDICOM)
        #expect(!garbage.reason.isEmpty)
        let truncated = try #require(report.excluded.first { $0.file == folder.truncated }, "\(report.excluded)")
        #expect(truncated.reason.contains("truncated or corrupt"), "\(truncated.reason)")
        #expect(truncated.kind == .malformed)
        // The failed series keeps its header description: the report says which series the file spoiled.
        let spoiled = try #require(failed.first)
        #expect(spoiled.files == 12 && spoiled.size == [48, 48, 12])
        #expect(Set(report.seconds.keys) == ["scan", "decode", "statistics"])
    }

    @Test("statistics are VoxelStatistics of the volume as acquired, and the SHA-256 is of its little-endian float32 values")
    func statisticsMatchTheVolume() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        // Tilted and unevenly spaced would differ from the corrected volume; a tilt makes "as acquired" matter.
        try SyntheticSeries(size: 40, slices: 10, spacing: Vector3(0.8, 0.8, 1.5), tiltDegrees: 12, seed: 7)
            .write(to: root.path)
        let report = try await Inspection(options: InspectionOptions(statistics: true)).run([root.path])
        let series = try #require(report.series.first)
        let hu = try #require(series.hu)

        let scan = try await SeriesScanner().scan([root.path])
        let volume = try await #require(scan.series.first).loadVolume(.asAcquired)
        let expected = VoxelStatistics(of: volume)
        #expect(hu.min == expected.minimum)
        #expect(hu.max == expected.maximum)
        #expect(hu.mean == expected.mean)
        #expect(hu.std == expected.standardDeviation)
        #expect(series.size == volume.size.array)
        #expect(series.corrected != nil, "a tilted series reports the grid loading will correct it to")

        // The hash of the bytes laid out here by hand (C order, each value little endian), by another implementation.
        var bytes = Data(capacity: volume.voxels.count * 4)
        for value in volume.voxels {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        let file = root.appendingPathComponent("voxels.bin")
        try bytes.write(to: file)
        #expect(hu.sha256 == (try Self.sha256sum(file)))
    }

    @Test("headers only: no statistics, no decoding time, every series key present in the JSON (absent values null)")
    func headersOnly() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try PipelineTestSupport.series(1, in: root)
        let phases = Mutex<[InspectionProgress.Phase]>([])
        let inspection = Inspection { progress in phases.withLock { $0.append(progress.phase) } }
        let report = try await inspection.run([root.path])
        #expect(report.series.count == 1 && report.series[0].hu == nil)
        #expect(Array(report.seconds.keys) == ["scan"])
        #expect(phases.withLock { !$0.contains(.decoding) })

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any]
        #expect(object.map { Set($0.keys) } == ["tool", "files", "seconds", "series", "excluded", "labels"])
        let series = try #require((object?["series"] as? [[String: Any]])?.first)
        #expect(Set(series.keys) == [
            "key", "series_uid", "study_uid", "modality", "description", "files", "transfer_syntaxes", "size",
            "spacing", "origin", "direction", "warnings", "notes", "excluded", "corrected", "hu",
        ])
        #expect(series["hu"] is NSNull)
        // The report reads back as it was written.
        #expect(try JSONDecoder().decode(InspectionReport.self, from: encoder.encode(report)) == report)
    }

    @Test("progress covers the headers, then every series decoded, ending at the total")
    func progressReportsBothPhases() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        try PipelineTestSupport.series(2, in: root)
        let seen = Mutex<[InspectionProgress]>([])
        let inspection = Inspection(options: InspectionOptions(statistics: true)) { progress in
            seen.withLock { $0.append(progress) }
        }
        _ = try await inspection.run([root.path])
        let updates = seen.withLock { $0 }
        let headers = updates.filter { $0.phase == .headers }
        let decoding = updates.filter { $0.phase == .decoding }
        #expect(headers.last == InspectionProgress(phase: .headers, done: 24, total: 24))
        #expect(decoding.map(\.done) == [0, 1, 2])
        #expect(decoding.allSatisfy { $0.total == 2 })
        #expect(updates.firstIndex { $0.phase == .decoding }! > updates.lastIndex { $0.phase == .headers }!)
    }

    @Test("a path that does not exist throws a DICOMError that names it")
    func missingPathThrows() async throws {
        let missing = "/nonexistent/hounsfield-inspection-\(UUID().uuidString)"
        let error = await #expect(throws: DICOMError.self) { try await Inspection().run([missing]) }
        #expect(error?.description.contains(missing) == true)
    }

    /// coreutils' SHA-256 of a file, as 64 lowercase hexadecimal digits.
    static func sha256sum(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    @Test("label objects are reported with the series they label and their classes")
    func labelObjects() async throws {
        let folder = PipelineTestSupport.packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/labels-rtstruct/mim-2slice")
        let report = try await Inspection().run([folder.path])
        #expect(report.series.count == 1 && report.labels.count == 2)
        let structureSet = try #require(report.labels.first { $0.file.hasSuffix("invalid_reference_rt.dcm") })
        #expect(structureSet.kind == .structureSet && structureSet.seriesKey == report.series[0].key)
        #expect(structureSet.classes.map(\.name) == ["ROI-1", "ROI-2", "ROI-3", "ROI-4"])
        #expect(structureSet.referencedInstances == 5)
        let encoder = JSONEncoder()
        #expect(try JSONDecoder().decode(InspectionReport.self, from: encoder.encode(report)) == report)
    }

    @Test("a NIfTI label map is reported with the series it lies on and its classes, not as an excluded file")
    func niftiLabelMap() async throws {
        let folder = PipelineTestSupport.packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/labels-nifti/totalseg-dicom")
        let report = try await Inspection().run([folder.path])
        #expect(report.series.count == 1)
        let map = try #require(report.labels.first { $0.kind == .niftiLabelMap })
        #expect(map.file.hasSuffix("example_seg_dicom.nii.gz"))
        #expect(map.seriesKey == report.series[0].key)
        #expect(!map.classes.isEmpty && !map.classes.contains { $0.value == 0 })
        #expect(!report.excluded.contains { $0.file == map.file })
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(json.contains(#""kind":"nifti_label_map""#))
    }

    @Test("a NIfTI CT is listed with the series, its label map with the labels; with statistics its HU are nibabel's")
    func niftiImage() async throws {
        let folder = PipelineTestSupport.packageRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/labels-nifti/totalseg-ct")
        let report = try await Inspection(options: InspectionOptions(statistics: true)).run([folder.path])
        #expect(report.series.count == 1 && report.excluded.isEmpty, "\(report.excluded)")
        let image = try #require(report.series.first)
        #expect(image.size == [122, 101, 30] && image.description == "example_ct_sm" && image.key.hasPrefix("nifti:totalseg-ct/"))
        let map = try #require(report.labels.first)
        #expect(map.kind == .niftiLabelMap && map.seriesKey == image.key && map.classes.count == 41)
        let reference = try LabelRunTests.reference("labels-nifti")["sets"] as! [String: [String: Any]]
        let data = ((reference["totalseg-ct"]!["nifti"] as! [[String: Any]]).first!)["data"] as! [String: Any]
        #expect(image.hu?.min == data["min"] as? Double && image.hu?.max == data["max"] as? Double)
        #expect(image.hu?.sha256 == data["sha256"] as? String)
    }
}
