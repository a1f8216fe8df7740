import Foundation
import Hounsfield
import HounsfieldTestSupport
import Testing

/// Window and normalization against a numpy implementation of the same formulas (float64): |Δ| ≤ 1e-6.
@Suite("Intensity transforms match numpy", .enabled(if: PythonPeer.shouldRun, "needs HOUNSFIELD_PYTHON (scripts/test.sh)"))
struct IntensityTransformTests {
    static let transforms: [TransformSpecification] = [
        .window(Window(minimum: -1000, maximum: 1000, output: .unit)),
        .window(Window(.lung, output: .symmetric)),
        .window(Window(.brain, output: .hounsfield)),
        .normalize(.minMax()),
        .normalize(.minMax(low: -1, high: 1)),
        .normalize(.zScore()),
        .normalize(.zScore(mean: -300, standardDeviation: 450)),
        .normalize(.nnUNetCT(lower: -958, upper: 327, mean: -79.5, standardDeviation: 231.7)),
    ]

    @Test("same values as numpy", arguments: transforms)
    func matchesNumpy(_ specification: TransformSpecification) async throws {
        let volume = Self.sample()
        let ours = try specification.makeTransform().apply(to: volume)
        #expect(ours.geometry == volume.geometry && ours.size == volume.size)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("numpy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in.raw"), output = folder.appendingPathComponent("out.raw")
        try RawFloats.write(volume.voxels, to: input)
        let json = try JSONSerialization.jsonObject(with: specification.canonicalJSON)
        try await PythonPeer.run("numpy_intensity.py", specification: ["input": input.path, "output": output.path, "transform": json])
        let theirs = try RawFloats.read(output, count: volume.voxels.count)
        let difference = zip(ours.voxels, theirs).reduce(0) { max($0, Double(abs($1.0 - $1.1))) }
        #expect(difference <= 1e-6, "max |Hounsfield − numpy| = \(difference)")
    }

    /// A CT-like range of values (air to bone, with fractions) on a small grid.
    static func sample() -> Volume<Float32> {
        var generator = SplitMix64(seed: 3)
        let size = GridSize(x: 40, y: 30, z: 12)
        let voxels = (0..<size.voxelCount).map { _ in Float32(Int(generator.next() % 4000) - 1024) + 0.375 }
        return Volume(voxels: voxels, size: size, geometry: Geometry(origin: [1, 2, 3], spacing: [0.7, 0.7, 1.25], direction: .identity))
    }
}

@Suite("Transform parameters and specifications")
struct TransformSpecificationTests {
    @Test("bad parameters are refused before any work, naming the parameter", arguments: [
        (TransformSpecification.window(Window(level: 40, width: 0)), "window width"),
        (.window(Window(minimum: .nan, maximum: 10)), "window minimum"),
        (.resample(Resample(to: .spacing(1, 0, 1))), "target spacing"),
        (.resample(Resample(to: .spacing(1, -2, 1))), "target spacing"),
        (.resample(Resample(to: .spacing(1, .nan, 1))), "target spacing"),
        (.resample(Resample(to: .size(10, 0, 4))), "target size"),
        (.normalize(.zScore(mean: 1, standardDeviation: nil)), "zscore statistics"),
        (.normalize(Normalize(method: .nnUNetCT, lower: 1, upper: 2)), "nnunet-ct"),
        (.normalize(.nnUNetCT(lower: 5, upper: 1, mean: 0, standardDeviation: 1)), "nnunet-ct upper"),
    ])
    func invalid(_ specification: TransformSpecification, _ parameter: String) {
        #expect {
            _ = try specification.makeTransform()
        } throws: { error in
            (error as? TransformError)?.description.hasPrefix(parameter) == true
        }
    }

    @Test("an output above the memory limit is refused before allocating")
    func tooLarge() {
        let volume = IntensityTransformTests.sample()
        #expect(throws: TransformError.self) {
            try Resample(to: .spacing(0.001, 0.001, 0.001), maximumOutputBytes: 1 << 30).apply(to: volume)
        }
    }

    @Test("an empty volume is refused")
    func empty() {
        let volume = Volume<Float32>(voxels: [], size: GridSize(x: 0, y: 4, z: 4), geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
        #expect(throws: TransformError.emptyVolume(volume.size)) { try Window(.brain).apply(to: volume) }
    }

    @Test("a chain round-trips through JSON and keeps a stable key")
    func codableChain() throws {
        let chain = TransformSpecification.compose([
            .window(Window(minimum: -1000, maximum: 1000)),
            .resample(Resample(to: .spacing(1, 1, 1), interpolation: .linear)),
            .normalize(.minMax()),
        ])
        let decoded = try JSONDecoder().decode(TransformSpecification.self, from: chain.canonicalJSON)
        #expect(decoded == chain)
        #expect(decoded.key == chain.key)
        #expect(chain.key.count == 64)
        let other = TransformSpecification.compose([.window(Window(minimum: -1000, maximum: 999))])
        #expect(other.key != chain.key)
        let text = #"{"type":"window","minimum":-160,"maximum":240,"output":"unit"}"#
        #expect(try JSONDecoder().decode(TransformSpecification.self, from: Data(text.utf8)) == .window(Window(level: 40, width: 400, output: .unit)))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TransformSpecification.self, from: Data(#"{"type":"blur"}"#.utf8))
        }
    }

    @Test("the example specification in Examples/README.md decodes into a working chain")
    func exampleSpecification() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let json = try #require(text.components(separatedBy: "```json\n").last?.components(separatedBy: "```").first)
        let specification = try JSONDecoder().decode(TransformSpecification.self, from: Data(json.utf8))
        guard case .compose(let steps) = specification else { Issue.record("not a compose"); return }
        #expect(steps.count == 3)
        _ = try specification.makeTransform()
    }

    @Test("labels follow spatial transforms with nearest neighbour and stay untouched by intensity transforms")
    func labels() throws {
        var label = IntensityTransformTests.sample()
        label.voxels = label.voxels.map { $0 > 500 ? 2 : ($0 > 0 ? 1 : 0) }
        let chain = try TransformSpecification.compose([
            .window(Window(.bone, output: .unit)), .resample(Resample(to: .spacing(1, 1, 1))),
        ]).makeTransform()
        let resampled = try chain.applyToLabel(label)
        #expect(Set(resampled.voxels).isSubset(of: [0, 1, 2]))
        #expect(resampled.geometry.spacing == Vector3(1, 1, 1))
    }

    @Test("resampling keeps geometry consistent: origin and direction kept, extent kept within a voxel")
    func geometry() throws {
        let volume = IntensityTransformTests.sample()
        let out = try Resample(to: .spacing(1, 1, 1)).apply(to: volume)
        #expect(out.geometry.origin == volume.geometry.origin)
        #expect(out.size == GridSize(x: 28, y: 21, z: 15))
        let centered = try Resample(to: .spacing(1, 1, 1), alignment: .center).apply(to: volume)
        let inCenter = volume.geometry.point(atIndex: Vector3(39, 29, 11) / 2)
        let outCenter = centered.geometry.point(atIndex: Vector3(27, 20, 14) / 2)
        #expect((inCenter - outCenter).length < 1e-9)
    }
}
