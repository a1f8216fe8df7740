import Foundation
import Hounsfield
import HounsfieldCore
import HounsfieldHDF5
import HounsfieldNIfTI
import HounsfieldTestSupport
import Testing

/// `hounsfield run` over NIfTI images: a CT beside its label map, nnU-Net's raw layout, name pairs, and the files a
/// run must leave out with a reason (decision 61). Values and geometry are checked against SimpleITK's and nibabel's
/// in `labels-nifti/reference.json`.
@Suite("Runs over NIfTI images")
struct NIfTIRunTests {
    static let totalsegCT = LabelRunTests.testdata.appendingPathComponent("labels-nifti/totalseg-ct")

    static func configuration(_ inputs: [URL], output: URL) -> RunConfiguration {
        var configuration = RunConfiguration(inputs: inputs.map(\.path))
        configuration.output.folder = output.path
        configuration.privacy.salt = "nifti"
        return configuration
    }

    static func copy(_ name: String, to destination: URL) throws {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: totalsegCT.appendingPathComponent(name), to: destination)
    }

    static func floatBytes(_ voxels: [Float32]) -> [UInt8] {
        voxels.withUnsafeBytes { Array($0) }
    }

    @Test("a NIfTI CT beside its label map: HU and geometry equal SimpleITK's, the label map nibabel's, with its table's names")
    func ctBesideItsLabelMap() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let report = try await BatchRun(configuration: Self.configuration([Self.totalsegCT], output: output)).run()
        #expect(report.counts["written"] == 1 && report.excluded.isEmpty, "\(report.excluded)")
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        let sets = try LabelRunTests.reference("labels-nifti")["sets"] as! [String: [String: Any]]
        let files = sets["totalseg-ct"]!["nifti"] as! [[String: Any]]
        let ct = files.first { $0["file"] as? String == "example_ct_sm.nii.gz" }!
        let itk = ct["simpleitk"] as! [String: Any]

        let image = try reader.readImage(entry.key)
        #expect(LabelRunTests.sha256(Self.floatBytes(image.voxels)) == (ct["data"] as! [String: Any])["sha256"] as? String)
        #expect(image.size.array == itk["size"] as! [Int])
        let origin = itk["origin"] as! [Double], direction = itk["direction"] as! [Double]
        #expect((image.geometry.origin - Vector3(origin[0], origin[1], origin[2])).length < 1e-4)
        #expect(zip(image.geometry.direction.rowMajor, direction).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(report.series.first?.description == "example_ct_sm")

        let seg = files.first { $0["file"] as? String == "example_seg.nii.gz" }!
        let onGrid = seg["on_ct_grid"] as! [String: Any]
        #expect(LabelRunTests.sha256(try reader.readLabel(entry.key).voxels) == onGrid["sha256_uint8"] as? String)
        let labels = try #require(entry.labels)
        var counts = onGrid["labels"] as! [String: Int]
        counts["0"] = nil
        #expect(labels.voxels == counts && labels.warnings.isEmpty, "\(labels.warnings)")
        #expect(labels.classes["1"] == "spleen" && labels.classes["117"] == "costal_cartilages")

        // The per-study API gives the same bytes.
        let volumes = try await Preprocessor(configuration: Self.configuration([], output: output)).process(paths: [Self.totalsegCT.path])
        #expect(volumes.count == 1 && volumes.first?.key == entry.key)
        if case .float32(let voxels)? = volumes.first?.image { #expect(voxels.voxels == image.voxels) } else { Issue.record("not float32") }
    }

    @Test("nnU-Net's raw layout: cases with their labelsTr maps and dataset.json's names; a two-channel case and an orphan label are left out with reasons")
    func nnUNetDataset() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let dataset = root.appendingPathComponent("Dataset042_Test")
        try Self.copy("example_ct_sm.nii.gz", to: dataset.appendingPathComponent("imagesTr/abdomen_001_0000.nii.gz"))
        try Self.copy("example_seg.nii.gz", to: dataset.appendingPathComponent("labelsTr/abdomen_001.nii.gz"))
        try Self.copy("example_ct_sm.nii.gz", to: dataset.appendingPathComponent("imagesTr/twochannels_0000.nii.gz"))
        try Self.copy("example_ct_sm.nii.gz", to: dataset.appendingPathComponent("imagesTr/twochannels_0001.nii.gz"))
        try Self.copy("example_seg.nii.gz", to: dataset.appendingPathComponent("labelsTr/nobody.nii.gz"))
        try #"{"channel_names": {"0": "CT"}, "labels": {"background": 0, "spleen": 1}, "file_ending": ".nii.gz", "numTraining": 2}"#
            .write(to: dataset.appendingPathComponent("dataset.json"), atomically: true, encoding: .utf8)
        let output = root.appendingPathComponent("out")
        let report = try await BatchRun(configuration: Self.configuration([dataset], output: output)).run()
        #expect(report.counts["written"] == 1)
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        let written = try #require(report.series.first { $0.status == .written })
        #expect(written.description == "abdomen_001" && written.modality == "CT")
        #expect(entry.labels?.classes["1"] == "spleen" && entry.labels?.voxels["1"] == 9452)
        let reasons = Dictionary(uniqueKeysWithValues: report.excluded.map { (($0.file as NSString).lastPathComponent, $0.reason) })
        #expect(reasons["twochannels_0000.nii.gz"]?.contains("2 channels") == true)
        #expect(reasons["twochannels_0001.nii.gz"]?.contains("2 channels") == true)
        #expect(reasons["nobody.nii.gz"]?.contains("no image of its case") == true)
        #expect(reasons["dataset.json"] != nil && reasons.count == 4, "\(reasons)")
    }

    @Test("X.nii.gz and X_seg.nii.gz pair by name; keys follow the content, not the folder the data sits in; a second run resumes")
    func namePairsAndStableKeys() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for place in ["a/case7", "b/deeper/case7"] {
            try Self.copy("example_ct_sm.nii.gz", to: root.appendingPathComponent("\(place)/ct.nii.gz"))
            try Self.copy("example_seg.nii.gz", to: root.appendingPathComponent("\(place)/ct_seg.nii.gz"))
        }
        let first = root.appendingPathComponent("out-a"), second = root.appendingPathComponent("out-b")
        let reportA = try await BatchRun(configuration: Self.configuration([root.appendingPathComponent("a")], output: first)).run()
        let reportB = try await BatchRun(configuration: Self.configuration([root.appendingPathComponent("b")], output: second)).run()
        #expect(reportA.counts["written"] == 1 && reportB.counts["written"] == 1)
        let a = try #require(OutputFolder(first).manifestEntries().entries.first)
        let b = try #require(OutputFolder(second).manifestEntries().entries.first)
        #expect(a.key == b.key && a.checksum == b.checksum && a.labels?.classes.count == 41)
        var resuming = Self.configuration([root.appendingPathComponent("a")], output: first)
        resuming.execution.resume = true
        let again = try await BatchRun(configuration: resuming).run()
        #expect(again.counts["resumed"] == 1 && again.counts["written"] == nil)
    }

    @Test("a CT stored unsigned without scl_inter (whole numbers 0…2999) is an image, not a label map without one")
    func unsignedCTIsAnImage() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let size = GridSize(x: 64, y: 64, z: 12)
        let values = (0..<size.voxelCount).map { UInt16(($0 * 7) % 3000) }
        let geometry = Geometry(origin: Vector3(-30, -30, 0), spacing: Vector3(1, 1, 2.5), direction: .identity)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
        try NIfTIWriter.write(Volume(voxels: values, size: size, geometry: geometry), to: root.appendingPathComponent("in/ct.nii.gz").path)
        let output = root.appendingPathComponent("out")
        let report = try await BatchRun(configuration: Self.configuration([root.appendingPathComponent("in")], output: output)).run()
        #expect(report.counts["written"] == 1 && report.excluded.isEmpty, "\(report.excluded)")
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        #expect(entry.labels == nil)
    }

    @Test("a parcellation with class values up to 300 is written as a uint16 label map, voxel for voxel")
    func parcellationAboveAByte() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let size = GridSize(x: 40, y: 36, z: 10)
        let geometry = Geometry(origin: Vector3(-20, -18, 0), spacing: Vector3(1, 1, 2), direction: .identity)
        let ct = Volume<Int16>(size: size, geometry: geometry) { buffer in
            for i in 0..<size.voxelCount { buffer[i] = Int16(-1000 + (i * 37) % 2400) }
        }
        let regions = Volume<UInt16>(size: size, geometry: geometry) { buffer in
            for i in 0..<size.voxelCount { buffer[i] = i % 11 == 0 ? 0 : UInt16(1 + (i / 5) % 300) }
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
        try NIfTIWriter.write(ct, to: root.appendingPathComponent("in/brain.nii.gz").path)
        try NIfTIWriter.write(regions, to: root.appendingPathComponent("in/brain_seg.nii.gz").path)
        let output = root.appendingPathComponent("out")
        let report = try await BatchRun(configuration: Self.configuration([root.appendingPathComponent("in")], output: output)).run()
        #expect(report.counts["written"] == 1, "\(report.excluded)")
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        #expect(entry.labels?.layout == .classIndex && entry.labels?.classes.count == 300)
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        #expect(try reader.volume(entry.key).labelElementType == .uint16)
        #expect(try reader.readLabel(entry.key, as: UInt16.self).voxels == regions.voxels)
    }

    @Test("a 4-D NIfTI file is left out with a reason; NIfTI files that hold no image give the usual no-series error")
    func filesThatAreNoImage() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let nibabel = LabelRunTests.testdata.appendingPathComponent("labels-nifti/nibabel-orientation")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("in"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: nibabel.appendingPathComponent("example4d.nii.gz"), to: root.appendingPathComponent("in/example4d.nii.gz"))
        try Self.copy("example_ct_sm.nii.gz", to: root.appendingPathComponent("in/ct.nii.gz"))
        let output = root.appendingPathComponent("out")
        let report = try await BatchRun(configuration: Self.configuration([root.appendingPathComponent("in")], output: output)).run()
        #expect(report.counts["written"] == 1)
        let reason = try #require(report.excluded.first { $0.file.hasSuffix("example4d.nii.gz") }?.reason)
        #expect(reason.contains("2 volumes (4-D)"))

        let labelOnly = root.appendingPathComponent("labels")
        try Self.copy("example_seg.nii.gz", to: labelOnly.appendingPathComponent("seg.nii.gz"))
        await #expect(throws: RunError.self) {
            try await BatchRun(configuration: Self.configuration([labelOnly], output: root.appendingPathComponent("out2"))).run()
        }
    }

    @Test("an upload (buffers) named like a NIfTI file on disk is never read from disk")
    func buffersAreNotPaths() async throws {
        let path = Self.totalsegCT.appendingPathComponent("example_ct_sm.nii.gz").path
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let study = try await Preprocessor(configuration: Self.configuration([], output: output))
            .processStudy(buffers: [(name: path, bytes: Array("not a NIfTI file".utf8))])
        #expect(study.volumes.isEmpty && study.excluded.count == 1 && study.noSeriesMessage != nil)
    }

    @Test("a NIfTI image streams through a resampling chain (planes converted as read) with the voxels of decode-then-transform")
    func streamingEqualsWhole() async throws {
        var configuration = Self.configuration([Self.totalsegCT], output: PipelineTestSupport.temporaryFolder())
        configuration.preprocessing.spacing = [2.2, 1.7, 2.5]
        configuration.preprocessing.window = [-200, 300]
        let processor = try SeriesProcessor(configuration: configuration)
        let scan = try await SeriesScanner().scan([Self.totalsegCT.path])
        let plan = try #require(SeriesSelection(processor: processor).select(scan, item: "") { _ in false }.planned.first)
        #expect(plan.streams && plan.series == nil)
        let streamed = try await processor.process(plan)
        let whole = try await processor.transform(try await processor.decode(plan), of: plan)
        #expect(streamed.image == whole.image && streamed.key == whole.key && streamed.metadata == whole.metadata)
    }

    @Test("crop to foreground crops the label with the image's box: every labelled voxel kept, each where it was")
    func cropToForegroundMovesLabels() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var configuration = Self.configuration([Self.totalsegCT], output: output)
        // The image's own 3 mm grid first (linear on the same grid: the same voxels), so the chain would stream it;
        // with labels that need it, the image is decoded whole, once, and the labels follow that volume.
        configuration.transforms = [.resample(Resample(to: .spacing(3, 3, 3))),
                                    .cropToForeground(CropToForeground(threshold: -500, margin: 0))]
        let report = try await BatchRun(configuration: configuration).run()
        #expect(report.counts["written"] == 1)
        #expect(report.series.first?.seconds["decode"] != nil && report.series.first?.seconds["decode_and_transform"] == nil)
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        let image = try reader.readImage(entry.key), label = try reader.readLabel(entry.key)
        #expect(label.size == image.size && label.geometry == image.geometry)
        #expect(image.size.voxelCount < 122 * 101 * 30, "the crop removed nothing: \(image.size)")
        #expect(entry.labels?.warnings.isEmpty == true, "\(entry.labels?.warnings ?? [])")

        let original = try NIfTIImage(contentsOf: Self.totalsegCT.appendingPathComponent("example_seg.nii.gz").path).labelValues()
        let sourceImage = try NIfTIImage(contentsOf: Self.totalsegCT.appendingPathComponent("example_ct_sm.nii.gz").path).volume()
        let box = CropToForeground(threshold: -500).box(for: sourceImage)
        var expected = [UInt8]()
        for k in 0..<box.size[2] { for j in 0..<box.size[1] { for i in 0..<box.size[0] {
            expected.append(UInt8(original[box.start[0] + i, box.start[1] + j, box.start[2] + k]))
        } } }
        #expect(label.voxels == expected)
    }
}
