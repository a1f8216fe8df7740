import Foundation
import Hounsfield
@testable import HounsfieldDICOM
import Testing

/// Every DICOM SEG of `labels-dicom-seg` decoded onto its CT series and compared with highdicom's masks
/// (`get_pixels_by_source_instance` in SimpleITK's slice order): voxel counts, per-slice counts and hashes exact.
@Suite("DICOM SEG decoding against highdicom")
struct SegmentationDecodingTests {
    static let cases: [(set: String, file: String)] = [
        ("liver-3slice", "seg/liver.dcm"), ("liver-3slice", "seg/partial_overlaps.dcm"),
        ("small-fractional", "seg/seg_image_ct_binary.dcm"), ("small-fractional", "seg/seg_image_ct_binary_overlap.dcm"),
        ("small-fractional", "seg/seg_image_ct_binary_fractional.dcm"),
        ("small-fractional", "seg/seg_image_ct_true_fractional.dcm"),
        ("labelmap", "seg/sparse-labelmap-noppv.dcm"), ("labelmap", "seg/sparse-labelmap-ppv5.dcm"),
    ]

    @Test("each segment's mask equals highdicom's", arguments: cases)
    func matchesHighdicom(set: String, file: String) async throws {
        let reference = try #require(
            (try LabelTestSupport.sets("labels-dicom-seg")[set]?["seg"] as? [[String: Any]])?.first { $0["file"] as? String == file })
        let (_, label, series) = try await LabelTestSupport.labelObject("labels-dicom-seg/" + set, file: file)
        #expect(label.kind == .segmentation)
        #expect(label.segmentationType == reference["segmentation_type"] as? String)
        let referenced = (reference["referenced_series"] as! [[String: Any]]).map { $0["series_uid"] as! String }
        #expect(label.referencedSeriesUIDs == referenced)
        #expect(label.frameOfReferenceUID == reference["frame_of_reference_uid"] as? String)

        let decoding = try label.decode(onto: series)
        var decoded = decoding.segments
        if let background = decoding.background { decoded.insert(background, at: 0) }
        let segments = reference["segments"] as! [[String: Any]]
        #expect(decoded.count == segments.count)
        for (segment, expected) in zip(decoded, segments) {
            #expect(segment.labelClass.value == expected["number"] as? Int)
            #expect(segment.labelClass.name == expected["label"] as? String)
            #expect(segment.labelClass.properties["category"] == expected["category"] as? String)
            #expect(segment.labelClass.properties["type"] == expected["type"] as? String)
            #expect(segment.mask.size == series.size && segment.mask.geometry == series.geometry)
            let mask = expected["mask"] as! [String: Any]
            // The reference mask is "any fraction": nonzero stored values.
            let binary = segment.mask.voxels.map { $0 != 0 ? UInt8(1) : 0 }
            let perSlice = (0..<series.size.z).map { z in
                binary[(z * series.size.x * series.size.y)..<((z + 1) * series.size.x * series.size.y)].reduce(0) { $0 + Int($1) }
            }
            #expect(binary.reduce(0) { $0 + Int($1) } == mask["voxels"] as? Int, "\(file) segment \(segment.labelClass.value)")
            #expect(perSlice == mask["per_slice"] as? [Int], "\(file) segment \(segment.labelClass.value)")
            #expect(LabelTestSupport.sha256(binary) == mask["sha256"] as? String, "\(file) segment \(segment.labelClass.value)")
            if let stored = expected["sha256_stored_uint8"] as? String {
                #expect(segment.maximumFraction == reference["maximum_fractional_value"] as? Int)
                #expect(LabelTestSupport.sha256(segment.mask.voxels) == stored, "\(file): stored fractions")
                let half = expected["mask_ge_half"] as! [String: Any]
                #expect(segment.voxelCount == half["voxels"] as? Int)
                #expect(LabelTestSupport.sha256(segment.binaryMask.voxels) == half["sha256"] as? String)
            } else {
                #expect(!segment.isFractional)
            }
        }
        // Slices without a frame: reported only when a frame lands nowhere, never as an error.
        print("SEG \(set)/\(file): \(decoded.map { "\($0.labelClass.value):\($0.voxelCount)" }.joined(separator: " ")); warnings: \(decoding.warnings)")
    }

    @Test("as a class map (what a run asks for), a BINARY or FRACTIONAL SEG without overlaps and a LABELMAP SEG are the map of their masks; others stay masks",
          arguments: cases)
    func classIndexEqualsMasks(set: String, file: String) async throws {
        let (label, masks, compact, combined) = try await LabelTestSupport.decodedBothWays("labels-dicom-seg/" + set, file: file)
        if label.segmentationType == "LABELMAP" {
            #expect(compact.segments.isEmpty && compact.classIndex == combined, "\(file)")
            #expect(compact.classIndex?.layout == .classIndex)
        } else if label.segmentationType == "BINARY" || label.segmentationType == "FRACTIONAL", combined.layout == .classIndex {
            #expect(compact.segments.isEmpty && compact.classIndex == combined, "\(file)")
        } else {
            #expect(compact.classIndex == nil && compact.segments == masks.segments, "\(file)")
        }
    }

    @Test("overlapping segments combine into channels, never dropping the overlap")
    func overlapsBecomeChannels() async throws {
        let (_, label, series) = try await LabelTestSupport.labelObject(
            "labels-dicom-seg/liver-3slice", file: "seg/partial_overlaps.dcm")
        let map = try LabelMap(segments: try label.decode(onto: series).segments)
        #expect(map.layout == .channels)
        #expect(map.overlappingVoxels == 3106)
    }

    @Test("a SEG decoded onto a series it does not reference is refused, naming the file and both series")
    func wrongSeries() async throws {
        let (_, label, _) = try await LabelTestSupport.labelObject(
            "labels-dicom-seg/liver-3slice", file: "seg/liver.dcm")
        let other = try #require(try await SeriesScanner().scan([TestSupport.testdata("labels-dicom-seg/labelmap/ct")]).series.first)
        #expect {
            try label.decode(onto: other)
        } throws: { error in
            guard let error = error as? LabelDecodingError, case .wrongSeries = error else { return false }
            return error.description.contains("liver.dcm") && error.description.contains(other.seriesInstanceUID)
        }
    }

    @Test("a SEG whose series is not among the inputs is excluded with that reason")
    func missingSeries() async throws {
        let scan = try await SeriesScanner().scan([TestSupport.testdata("labels-dicom-seg/liver-3slice/seg")])
        #expect(scan.series.isEmpty && scan.labelObjects.isEmpty)
        #expect(scan.excluded.count == 2)
        for exclusion in scan.excluded {
            #expect(exclusion.kind == .labelWithoutSeries)
            #expect(exclusion.reason.contains("1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"), "\(exclusion.reason)")
            #expect(exclusion.reason.contains("not among the inputs"))
        }
    }

    @Test("a SEG whose frames are not the size of the series' slices is refused with both sizes")
    func wrongRowsAndColumns() async throws {
        // The 16×16 SEG's series UID given to the 24×38 series' descriptor: same references, different grid.
        let (_, label, _) = try await LabelTestSupport.labelObject(
            "labels-dicom-seg/small-fractional", file: "seg/seg_image_ct_binary.dcm")
        var other = try #require(try await SeriesScanner().scan([TestSupport.testdata("labels-dicom-seg/labelmap/ct")]).series.first)
        other.seriesInstanceUID = label.referencedSeriesUIDs[0]
        #expect {
            try label.decode(onto: other)
        } throws: { error in
            guard let error = error as? LabelDecodingError, case .gridMismatch = error else { return false }
            return error.description.contains("seg_image_ct_binary.dcm") && error.description.contains("16×16")
                && error.description.contains("24×38")
        }
    }

    @Test("every label object's references and classes read the same through DCMTK as through the native parser")
    func descriptorsMatchDCMTK() async throws {
        let scan = try await SeriesScanner().scan([
            TestSupport.testdata("labels-dicom-seg"), TestSupport.testdata("labels-rtstruct"),
        ])
        #expect(scan.labelObjects.count == 11)
        for label in scan.labelObjects {
            let dcmtk = try label.source.open(headerOnly: true, reader: .dcmtk)
            #expect(LabelObjectReader.read(dcmtk, from: label.source) == label, "\(label.source.name)")
            #expect(!label.referencedInstanceUIDs.isEmpty, "\(label.source.name)")
        }
    }

    @Test("a frame whose source image is missing from the series, and whose position is on no slice, is reported")
    func frameOnNoSlice() async throws {
        let folder = TestSupport.testdata("labels-dicom-seg/small-fractional") + "/"
        func file(_ name: String) throws -> (name: String, bytes: [UInt8]) {
            (name: name, bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + name))))
        }
        // Without ct/17136 (z = 103.02 mm), the slice the SEG's first frame was drawn on.
        let scan = await SeriesScanner().scan(buffers: [
            try file("ct/17106"), try file("ct/17166"), try file("ct/17196"), try file("seg/seg_image_ct_binary.dcm"),
        ])
        let label = try #require(scan.labelObjects.first)
        let series = try #require(scan.referencedSeries(of: label))
        #expect(series.size.z == 3)
        let decoding = try label.decode(onto: series)
        #expect(decoding.warnings.count == 1)
        let warning = try #require(decoding.warnings.first)
        #expect(warning.contains("1 of 3 frames land on no slice") && warning.contains("is not in the series"), "\(warning)")
        let mask = try #require(decoding.segments.first).mask
        let perSlice = (0..<3).map { z in mask.voxels[(z * 256)..<((z + 1) * 256)].reduce(0) { $0 + Int($1) } }
        #expect(perSlice == [0, 256, 255])
    }

    @Test("without SOP instances to match, frames are placed by plane position to the same voxels", arguments: cases)
    func placedByPosition(set: String, file: String) async throws {
        let (_, label, series) = try await LabelTestSupport.labelObject("labels-dicom-seg/" + set, file: file)
        let bySOPInstance = try label.decode(onto: series)
        // A trimmed descriptor has no SOP instance UIDs: only ImagePositionPatient can place the frames.
        let byPosition = try label.decode(onto: series.trimmedForDecoding())
        #expect(byPosition.segments == bySOPInstance.segments)
        #expect(byPosition.background == bySOPInstance.background)
    }

    @Test("a 1-bit SEG that DCMTK reads (deflated; a bare implicit-VR data set) decodes to the same masks",
          arguments: [["+td"], ["+ti", "-F"]])
    func readThroughDCMTK(_ options: [String]) async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let set = TestSupport.testdata("labels-dicom-seg/liver-3slice")
        try TestSupport.run("dcmconv", options + [set + "/seg/partial_overlaps.dcm", folder + "/seg.dcm"])
        for name in ["01.dcm", "02.dcm", "03.dcm"] {
            try FileManager.default.copyItem(atPath: set + "/ct/" + name, toPath: folder + "/" + name)
        }
        let scan = try await SeriesScanner().scan([folder])
        let label = try #require(scan.labelObjects.first)
        #expect(!(try label.source.open(headerOnly: true)).isReadNatively)
        let converted = try label.decode(onto: try #require(scan.referencedSeries(of: label)))
        let (_, original, series) = try await LabelTestSupport.labelObject(
            "labels-dicom-seg/liver-3slice", file: "seg/partial_overlaps.dcm")
        let expected = try original.decode(onto: series)
        #expect(converted.segments.map(\.mask.voxels) == expected.segments.map(\.mask.voxels))
        #expect(converted.segments.map(\.labelClass) == expected.segments.map(\.labelClass))
    }

    @Test("a SEG none of whose frames lands on a slice of the series is refused, saying why")
    func noFrameOnTheSeries() async throws {
        let folder = TestSupport.testdata("labels-dicom-seg/small-fractional") + "/"
        func file(_ name: String) throws -> (name: String, bytes: [UInt8]) {
            (name: name, bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + name))))
        }
        // Only ct/17106 (z = −99.48 mm), the one slice the SEG has no frame for.
        let scan = await SeriesScanner().scan(buffers: [try file("ct/17106"), try file("seg/seg_image_ct_binary.dcm")])
        let label = try #require(scan.labelObjects.first)
        let series = try #require(scan.referencedSeries(of: label))
        #expect {
            try label.decode(onto: series)
        } throws: { error in
            guard let error = error as? LabelDecodingError, case .noFramePlaced = error else { return false }
            return error.description.contains("seg_image_ct_binary.dcm") && error.description.contains("no frame lands")
                && error.description.contains("is not in the series")
        }
    }
}

