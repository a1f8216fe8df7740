import Foundation
import Hounsfield
import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

/// A sphere of known centre and radius drawn on the synthetic phantom and written by the tools users write labels
/// with — a DICOM SEG by highdicom, an RTSTRUCT by rt-utils, a NIfTI label map by nibabel — goes through a run that
/// resamples to 1.5 mm and comes out on the image's grid, where it is.
@Suite("Label round trip through the tools users label with", .enabled(if: PythonPeer.shouldRun, "needs HOUNSFIELD_PYTHON (scripts/test.sh)"))
struct LabelRoundTripTests {
    static let radius = 7.0

    struct Outcome {
        var map: Volume<UInt8>
        var labels: LabelSummary
        var centroid: Vector3
    }

    /// Runs the CT and one label object (1.5 mm, window, minmax); returns the volume's manifest line and the output.
    static func written(ct: URL, label: URL, in root: URL) async throws -> (entry: ManifestEntry, output: URL) {
        let input = root.appendingPathComponent("in-" + label.lastPathComponent)
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ct, to: input.appendingPathComponent("ct"))
        try FileManager.default.copyItem(at: label, to: input.appendingPathComponent(label.lastPathComponent))
        let output = root.appendingPathComponent("out-" + label.lastPathComponent)
        let report = try await BatchRun(configuration: PipelineTestSupport.configuration(inputs: [input], output: output)).run()
        #expect(report.counts["written"] == 1)
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        _ = try #require(entry.labels, "\(label.lastPathComponent) was not paired: \(report.excluded)")
        return (entry, output)
    }

    /// Runs the CT and one label object and reads the stored class map back.
    static func run(ct: URL, label: URL, in root: URL) async throws -> Outcome {
        let (entry, output) = try await written(ct: ct, label: label, in: root)
        let labels = try #require(entry.labels)
        let map = try ShardReader(url: output.appendingPathComponent(entry.shard)).readLabel(entry.key)
        var sum = Vector3(0, 0, 0), count = 0.0
        for z in 0..<map.size.z { for y in 0..<map.size.y { for x in 0..<map.size.x where map[x, y, z] != 0 {
            sum += map.geometry.point(atIndex: Vector3(Double(x), Double(y), Double(z)))
            count += 1
        } } }
        return Outcome(map: map, labels: labels, centroid: sum / count)
    }

    @Test("SEG, RTSTRUCT and NIfTI of one sphere land on the resampled image's grid, centred within half a voxel")
    func sphereThroughEveryFormat() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let ct = root.appendingPathComponent("ct")
        try SyntheticSeries(size: 48, slices: 12, spacing: Vector3(0.9, 0.9, 2), seed: 21).write(to: ct.path)
        let series = try #require(try await SeriesScanner().scan([ct.path]).series.first)
        let centre = series.geometry.point(atIndex: Vector3(23.3, 20.6, 5.4))
        let objects = root.appendingPathComponent("objects")
        try await PythonPeer.run("make_label_objects.py", specification: [
            "series": ct.path, "output": objects.path, "centre": centre.array, "radius": Self.radius, "name": "sphere",
        ])

        let seg = try await Self.run(ct: ct, label: objects.appendingPathComponent("sphere-seg.dcm"), in: root)
        let rtstruct = try await Self.run(ct: ct, label: objects.appendingPathComponent("sphere-rtstruct.dcm"), in: root)
        let nifti = try await Self.run(ct: ct, label: objects.appendingPathComponent("sphere-label.nii.gz"), in: root)
        // The SEG and the NIfTI hold the same voxels on the CT's grid, so after the same resampling they are equal.
        #expect(nifti.map.voxels == seg.map.voxels)
        let expected = 4.0 / 3.0 * Double.pi * pow(Self.radius, 3) / pow(1.5, 3)
        for (name, outcome) in [("SEG", seg), ("RTSTRUCT", rtstruct), ("NIfTI", nifti)] {
            let offset = (outcome.centroid - centre).length
            let voxels = Double(outcome.labels.voxels["1"] ?? 0)
            print("round trip \(name): \(Int(voxels)) voxels (sphere: \(Int(expected))), centroid off by \(offset) mm")
            #expect(offset < 0.75, "\(name): the centroid moved \(offset) mm, more than half a 1.5 mm voxel")
            // rt-utils writes contours through the centres of the mask's boundary pixels, and the rasterizer keeps
            // the voxels whose centres are inside (plastimatch's rule, exact polygon area): the RTSTRUCT's sphere
            // loses about half a CT pixel all round, (6.55 / 7)³ ≈ 0.82 of the volume.
            let range = name == "RTSTRUCT" ? 0.7...1.05 : 0.85...1.15
            #expect(range.contains(voxels / expected), "\(name): \(voxels) voxels")
            #expect(outcome.labels.classes["1"] == (name == "NIfTI" ? "label 1" : "sphere"))
        }
        // rt-utils traces the mask's boundary pixels' centres and the rasterizer keeps centres strictly inside, so
        // its sphere is a shell thinner than the SEG's: nearly the same mask, never more.
        let dice = Double(2 * zip(seg.map.voxels, rtstruct.map.voxels).filter { $0 != 0 && $1 != 0 }.count)
            / Double(seg.map.voxels.filter { $0 != 0 }.count + rtstruct.map.voxels.filter { $0 != 0 }.count)
        print("round trip: Dice(SEG, RTSTRUCT) = \(dice)")
        #expect(dice > 0.85)

        // The sphere inside a BODY outline: the ROIs overlap, so they cannot share a class map and are stored as
        // two channels, the whole sphere counted as overlap.
        let (entry, output) = try await Self.written(
            ct: ct, label: objects.appendingPathComponent("sphere-in-body-rtstruct.dcm"), in: root)
        let enclosed = try #require(entry.labels)
        #expect(enclosed.layout == .channels && enclosed.classes == ["1": "sphere", "2": "BODY"])
        #expect(enclosed.overlappingVoxels == enclosed.voxels["1"] && enclosed.voxels["1"] == rtstruct.labels.voxels["1"])
        let channels = try ShardReader(url: output.appendingPathComponent(entry.shard)).readLabelChannels(entry.key)
        #expect(channels.count == 2 && channels[0].voxels == rtstruct.map.voxels)
    }

    @Test("a LABELMAP SEG of 300 segments (16-bit pixels) from highdicom, uncompressed, RLE and JPEG-LS: the run stores the array it was made from as uint16",
          arguments: [("explicit", "1.2.840.10008.1.2.1"), ("RLE", "1.2.840.10008.1.2.5"), ("JPEG-LS", "1.2.840.10008.1.2.4.80")])
    func sixteenBitLabelMapSEG(name: String, transferSyntax: String) async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in")
        let ct = input.appendingPathComponent("ct")
        try SyntheticSeries(size: 40, slices: 6, spacing: Vector3(0.9, 0.9, 2), seed: 23).write(to: ct.path)
        let array = root.appendingPathComponent("labels.raw")
        try await PythonPeer.run("make_labelmap_seg.py", specification: [
            "series": ct.path, "output": input.appendingPathComponent("seg.dcm").path, "array": array.path,
            "segments": 300, "transfer_syntax": transferSyntax,
        ])
        var configuration = RunConfiguration(inputs: [input.path])
        let output = root.appendingPathComponent("out")
        configuration.output.folder = output.path
        let report = try await BatchRun(configuration: configuration).run()
        #expect(report.counts["written"] == 1, "\(name): \(report.excluded)")
        let entry = try #require(OutputFolder(output).manifestEntries().entries.first)
        #expect(entry.labels?.layout == .classIndex && entry.labels?.classes.count == 300 && entry.labels?.warnings == [], "\(name)")
        let reader = try ShardReader(url: output.appendingPathComponent(entry.shard))
        #expect(try reader.volume(entry.key).labelElementType == .uint16, "\(name)")
        let expected = try Data(contentsOf: array).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        #expect(try reader.readLabel(entry.key, as: UInt16.self).voxels == expected, "\(name)")
    }
}
