import Crypto
import Foundation
import Hounsfield
import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

/// `hounsfield run` over CT studies with their label objects: discovery pairs them, the run stores image and label
/// together, and the stored masks equal the reference tools' (highdicom for SEG, plastimatch for RTSTRUCT).
@Suite("Runs with labels")
struct LabelRunTests {
    static let testdata = PipelineTestSupport.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")

    static func reference(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: testdata.appendingPathComponent(folder).appendingPathComponent("reference.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }

    /// HU as decoded: no chain, so label and image keep the CT's grid and compare with the references directly.
    /// With `nifti`, the run also writes its NIfTI copies (`output.nifti`).
    static func run(_ folder: URL, output: URL, nifti: Bool = false) async throws -> (RunReport, ManifestEntry, ShardReader) {
        var configuration = RunConfiguration(inputs: [folder.path])
        configuration.output.folder = output.path
        configuration.output.nifti = nifti
        configuration.privacy.salt = "labels"
        let report = try await BatchRun(configuration: configuration).run()
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        return (report, entry, try ShardReader(url: output.appendingPathComponent(entry.shard)))
    }

    @Test("a CT with a one-segment SEG and a five-segment overlapping SEG: six channels, each equal to highdicom's mask")
    func segmentationsBesideTheirCT() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let (report, entry, reader) = try await Self.run(Self.testdata.appendingPathComponent("labels-dicom-seg/liver-3slice"), output: output)
        #expect(report.counts["written"] == 1)
        let labels = try #require(entry.labels)
        #expect(labels.layout == .channels, "the five segments overlap (3 106 voxels), so one map cannot hold them")
        #expect(labels.classes == ["1": "Liver", "2": "GREEN", "3": "ORANGE", "4": "PURPLE", "5": "LIGHT_BLUE", "6": "DARK_BLUE"])
        #expect(labels.sources.count == 2 && labels.warnings.isEmpty)
        #expect(report.series.first?.labels == labels)

        // In file order (liver.dcm, partial_overlaps.dcm), segments in number order: highdicom's masks.
        let sets = try Self.reference("labels-dicom-seg")["sets"] as! [String: [String: Any]]
        let segs = sets["liver-3slice"]!["seg"] as! [[String: Any]]
        let expected = segs.sorted { ($0["file"] as! String) < ($1["file"] as! String) }.flatMap { $0["segments"] as! [[String: Any]] }
            .map { ($0["mask"] as! [String: Any]) }
        let channels = try reader.readLabelChannels(entry.key)
        #expect(channels.count == expected.count)
        for (index, (channel, mask)) in zip(channels, expected).enumerated() {
            #expect(Self.sha256(channel.voxels) == mask["sha256"] as? String, "channel \(index)")
            #expect(labels.voxels[String(index + 1)] == mask["voxels"] as? Int)
        }
        #expect(channels.first?.geometry == (try reader.volume(entry.key)).geometry)
        #expect(ManifestVerification(folder: output).run().isClean)

        // The per-study path gives the same image and labels, byte for byte.
        var configuration = RunConfiguration(inputs: [])
        configuration.privacy.salt = "labels"
        let study = try await Preprocessor(configuration: configuration)
            .processStudy(paths: [Self.testdata.appendingPathComponent("labels-dicom-seg/liver-3slice").path])
        let volume = try #require(study.volumes.first)
        #expect(volume.key == entry.key && volume.image.checksum == entry.checksum)
        #expect(volume.labels?.channels == channels)
        #expect(volume.labels.map { LabelSummary($0, sources: volume.labelSources, warnings: volume.labelWarnings) } == labels)
    }

    @Test("an RTSTRUCT's ROIs are stored on their CT, centre-inside: equal to plastimatch's masks; contours on missing slices are reported")
    func structureSetBesideItsCT() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let input = PipelineTestSupport.temporaryFolder("mim")
        defer { try? FileManager.default.removeItem(at: input) }
        // The MIM structure set alone with its CT (rt.dcm, in the same set, names another frame of reference).
        let set = Self.testdata.appendingPathComponent("labels-rtstruct/mim-2slice")
        try FileManager.default.copyItem(at: set.appendingPathComponent("ct"), to: input.appendingPathComponent("ct"))
        try FileManager.default.createDirectory(at: input.appendingPathComponent("rtstruct"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: set.appendingPathComponent("rtstruct/invalid_reference_rt.dcm"),
                                         to: input.appendingPathComponent("rtstruct/invalid_reference_rt.dcm"))
        let (_, entry, reader) = try await Self.run(input, output: output)
        let labels = try #require(entry.labels)
        #expect(labels.layout == .classIndex)
        let sets = try Self.reference("labels-rtstruct")["sets"] as! [String: [String: Any]]
        let structureSet = (sets["mim-2slice"]!["rtstruct"] as! [[String: Any]]).first { ($0["file"] as! String).hasSuffix("invalid_reference_rt.dcm") }!
        let rois = structureSet["rois"] as! [[String: Any]]
        let map = try reader.readLabel(entry.key)
        for (index, roi) in rois.enumerated() {
            let plastimatch = roi["plastimatch"] as! [String: Any]
            let mask = map.voxels.map { $0 == UInt8(index + 1) ? UInt8(1) : 0 }
            #expect(Self.sha256(mask) == plastimatch["sha256"] as? String, "ROI \(roi["name"]!)")
            #expect(labels.classes[String(index + 1)] == roi["name"] as? String)
        }
        #expect(labels.warnings.count == 4)
        #expect(labels.warnings.allSatisfy { $0.contains("1 of 3 contours lie on no slice") })
    }

    @Test("a NIfTI label map beside its DICOM series (flipped in y, UIDs empty) lands on it voxel for voxel, with its label table's names")
    func niftiBesideItsDICOMSeries() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let (report, entry, reader) = try await Self.run(Self.testdata.appendingPathComponent("labels-nifti/totalseg-dicom"), output: output)
        #expect(report.counts["written"] == 1)
        let labels = try #require(entry.labels)
        #expect(labels.layout == .classIndex && labels.warnings.isEmpty, "\(labels.warnings)")
        #expect(labels.classes["1"] == "spleen" && labels.classes["5"] == "liver" && labels.classes.count == 31)
        let sets = try Self.reference("labels-nifti")["sets"] as! [String: [String: Any]]
        let nifti = (sets["totalseg-dicom"]!["nifti"] as! [[String: Any]]).first!
        let onGrid = nifti["on_ct_grid"] as! [String: Any]
        let map = try reader.readLabel(entry.key)
        #expect(Self.sha256(map.voxels) == onGrid["sha256_uint8"] as? String)
        var counts = onGrid["labels"] as! [String: Int]
        counts["0"] = nil
        #expect(labels.voxels == counts)
    }

    @Test("output.nifti writes the image and its class map in nnU-Net's raw layout, equal to the shard's, with dataset.json")
    func niftiCopies() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let (report, entry, reader) = try await Self.run(
            Self.testdata.appendingPathComponent("labels-nifti/totalseg-dicom"), output: output, nifti: true)
        #expect(report.counts["written"] == 1)
        let stored = try reader.readImage(entry.key)
        let nifti = output.appendingPathComponent("nifti")

        let image = try NIfTIImage(contentsOf: nifti.appendingPathComponent("imagesTr/\(entry.key)_0000.nii.gz").path)
        #expect(image.size == stored.size)
        #expect((image.geometry.origin - stored.geometry.origin).length < 1e-3)
        #expect(abs(image.geometry.spacing.x - stored.geometry.spacing.x) < 1e-5 && abs(image.geometry.spacing.z - stored.geometry.spacing.z) < 1e-5)
        #expect(try image.volume().voxels == stored.voxels)

        let label = try NIfTIImage(contentsOf: nifti.appendingPathComponent("labelsTr/\(entry.key).nii.gz").path)
        #expect(label.header.dataType == .uint8)
        #expect(try label.labelValues().voxels.map { UInt8($0) } == reader.readLabel(entry.key).voxels)

        let description = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: nifti.appendingPathComponent("dataset.json"))) as? [String: Any])
        #expect(description["numTraining"] as? Int == 1 && description["file_ending"] as? String == ".nii.gz")
        let labels = try #require(description["labels"] as? [String: Int])
        #expect(labels["background"] == 0 && labels["spleen"] == 1 && labels["liver"] == 5 && labels.count == 32)
    }

    @Test("output.nifti with overlapping classes: a 4-D copy of the channels in labelsChannels/ with their classes, nothing in labelsTr/")
    func niftiCopyOfChannels() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let (report, entry, reader) = try await Self.run(
            Self.testdata.appendingPathComponent("labels-dicom-seg/liver-3slice"), output: output, nifti: true)
        #expect(report.counts["written"] == 1)
        let channels = try reader.readLabelChannels(entry.key)
        let nifti = output.appendingPathComponent("nifti")
        let file = try NIfTIImage(contentsOf: nifti.appendingPathComponent("labelsChannels/\(entry.key).nii.gz").path)
        #expect(file.header.dataType == .uint8 && file.volumeCount == channels.count && file.size == channels[0].size)
        #expect((file.geometry.origin - channels[0].geometry.origin).length < 1e-3)
        for (index, channel) in channels.enumerated() {
            #expect(try file.volume(index, as: UInt8.self).voxels == channel.voxels, "channel \(index)")
        }
        let sidecar = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: nifti.appendingPathComponent("labelsChannels/\(entry.key).json"))) as? [String: Any])
        let listed = try #require(sidecar["channels"] as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["Liver", "GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"])
        #expect(listed.map { $0["value"] as? Int } == Array(1...6).map(Optional.some))
        #expect(!FileManager.default.fileExists(atPath: nifti.appendingPathComponent("labelsTr/\(entry.key).nii.gz").path))
    }

    @Test("labels.pair false writes images only")
    func labelsOff() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var configuration = RunConfiguration(inputs: [Self.testdata.appendingPathComponent("labels-dicom-seg/liver-3slice").path])
        configuration.output.folder = output.path
        configuration.labels.pair = false
        let report = try await BatchRun(configuration: configuration).run()
        #expect(report.counts["written"] == 1)
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        #expect(entry.labels == nil && entry.labelPath == nil)
    }

    @Test("a label object whose series is not in the input is excluded with that reason, and nothing else changes")
    func labelWithoutItsSeries() async throws {
        let output = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        var configuration = RunConfiguration(inputs: [Self.testdata.appendingPathComponent("labels-dicom-seg/liver-3slice/seg").path,
                                                      Self.testdata.appendingPathComponent("ct-ge-missing-slice").path])
        configuration.output.folder = output.path
        let report = try await BatchRun(configuration: configuration).run()
        let excluded = report.excluded.filter { $0.file.hasSuffix(".dcm") && $0.file.contains("/seg/") }
        #expect(excluded.count == 2)
        #expect(excluded.allSatisfy { $0.reason.contains("series") }, "\(excluded.map(\.reason))")
        #expect(OutputFolder(output).manifestEntries().entries.allSatisfy { $0.labels == nil })
    }
}
