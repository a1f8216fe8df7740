import Foundation
import Hounsfield
import HounsfieldTestSupport
import Testing

/// nnU-Net's resampling by name, against nnU-Net v2's algorithm run with skimage and scipy.
@Suite("nnU-Net resampling matches nnU-Net", .enabled(if: PythonPeer.shouldRun, "needs HOUNSFIELD_PYTHON (scripts/test.sh)"))
struct NNUNetResampleTests {
    /// Spacings as plain arrays: Swift Testing 6.3.1 crashes after a test case whose argument struct holds a
    /// `SIMD3<Double>` (seen here, reported nowhere yet; arrays are fine).
    struct Case: Sendable, CustomTestStringConvertible {
        let spacing: [Double]
        let target: [Double]
        let separateZ: Bool
        var testDescription: String { "\(spacing) → \(target)" }
    }

    static let cases = [
        Case(spacing: [0.7, 0.7, 3.0], target: [1, 1, 1], separateZ: true),    // anisotropic input
        Case(spacing: [0.8, 0.8, 2.5], target: [0.8, 0.8, 5], separateZ: true), // anisotropic target, z only
        Case(spacing: [0.7, 0.7, 1.25], target: [1, 1, 1], separateZ: false),  // 3-D cubic
    ]

    @Test("same values as nnU-Net's resample_data_or_seg", arguments: cases)
    func matchesNNUNet(_ testCase: Case) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nnunet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SyntheticSeries(size: 64, slices: 16, spacing: Vector3(testCase.spacing[0], testCase.spacing[1], testCase.spacing[2])).write(to: folder.appendingPathComponent("series").path)
        let volume = try await SeriesScanner().scan([folder.path]).series[0].loadVolume()
        let transform = NNUNetResample(spacing: testCase.target)
        #expect((transform.plan(size: volume.size, spacing: volume.geometry.spacing).coarseAxis != nil) == testCase.separateZ)
        let ours = try transform.apply(to: volume)

        let input = folder.appendingPathComponent("in.raw"), output = folder.appendingPathComponent("out.raw")
        try RawFloats.write(volume.voxels, to: input)
        try await PythonPeer.run("nnunet_resample.py", specification: [
            "input": input.path, "output": output.path, "size": volume.size.array,
            "spacing": volume.geometry.spacing.array, "target": testCase.target, "threshold": 3.0,
        ])
        let theirs = try RawFloats.read(output, count: ours.size.voxelCount)
        let difference = zip(ours.voxels, theirs).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
        print("nnunet-resample \(testCase.testDescription): \(ours.size), max |Δ| = \(difference) HU")
        #expect(difference <= 1e-3, "max |Hounsfield − nnU-Net| = \(difference) HU")
        // The geometry spreads the same extent over the new voxel count.
        let extentIn = volume.geometry.spacing * Vector3(Double(volume.size.x), Double(volume.size.y), Double(volume.size.z))
        let extentOut = ours.geometry.spacing * Vector3(Double(ours.size.x), Double(ours.size.y), Double(ours.size.z))
        #expect((extentIn - extentOut).length < 1e-9)
    }

    @Test("labels the nnU-Net way (per-class linear, kept at ≥ 0.5, coarse axis nearest) equal nnU-Net's resize_segmentation", arguments: cases)
    func labelsMatchNNUNet(_ testCase: Case) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nnunet-labels-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SyntheticSeries(size: 64, slices: 16, spacing: Vector3(testCase.spacing[0], testCase.spacing[1], testCase.spacing[2])).write(to: folder.appendingPathComponent("series").path)
        let volume = try await SeriesScanner().scan([folder.path]).series[0].loadVolume()
        // Classes from the phantom's tissues: 1 fat and soft tissue, 2 lung, 3 bone (air stays 0).
        var label = volume
        label.voxels = volume.voxels.map { hu in hu > 500 ? 3 : hu > 150 ? 0 : hu > -300 ? 1 : hu > -950 ? 2 : 0 }
        let transform = NNUNetResample(spacing: testCase.target, labelResampling: .nnUNet)
        let ours = try transform.applyToLabel(label)
        let nearest = try NNUNetResample(spacing: testCase.target).applyToLabel(label)

        let input = folder.appendingPathComponent("in.raw"), output = folder.appendingPathComponent("out.raw")
        try RawFloats.write(label.voxels, to: input)
        try await PythonPeer.run("nnunet_resample.py", specification: [
            "input": input.path, "output": output.path, "size": label.size.array,
            "spacing": label.geometry.spacing.array, "target": testCase.target, "threshold": 3.0, "segmentation": true,
        ])
        let theirs = try RawFloats.read(output, count: ours.size.voxelCount)
        let differing = zip(ours.voxels, theirs).filter { $0 != $1 }.count
        let nearestDiffering = zip(nearest.voxels, theirs).filter { $0 != $1 }.count
        print("nnunet labels \(testCase.testDescription): \(differing) of \(ours.size.voxelCount) voxels differ from nnU-Net (nearest neighbour: \(nearestDiffering))")
        #expect(differing == 0)
        #expect(ours.size == nearest.size && ours.geometry == nearest.geometry)
    }

    @Test("the label option is recorded only when chosen, so existing transform keys stay")
    func keyUnchangedByDefault() throws {
        let plain = TransformSpecification.nnUNetResample(NNUNetResample(spacing: [1, 1, 1]))
        #expect(String(decoding: plain.canonicalJSON, as: UTF8.self) == #"{"anisotropyThreshold":3,"spacing":[1,1,1],"type":"nnunet-resample"}"#)
        let labels = TransformSpecification.nnUNetResample(NNUNetResample(spacing: [1, 1, 1], labelResampling: .nnUNet))
        #expect(String(decoding: labels.canonicalJSON, as: UTF8.self).contains(#""labels":"nnunet""#))
        let decoded = try JSONDecoder().decode(TransformSpecification.self, from: labels.canonicalJSON)
        #expect(decoded == labels)
    }
}
