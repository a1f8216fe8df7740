import Foundation
import Hounsfield
import Testing

/// `Compose` runs windows next to a resampling inside the resampler's loops (`WindowedResample`). That is only an
/// optimization: the voxels must be the same, bit for bit, as running each step on its own.
@Suite("Windows fused into resampling")
struct FusedWindowTests {
    /// Noisy HU well beyond any window, on an anisotropic grid, so clipping and interpolation both matter.
    static func volume(direction: Direction = .identity) -> Volume<Float32> {
        var random = SplitMix64(seed: 42)
        let size = GridSize(x: 23, y: 19, z: 11)
        let voxels = (0..<size.voxelCount).map { _ in Float32(Double.random(in: -2500...3500, using: &random).rounded()) }
        return Volume(voxels: voxels, size: size,
                      geometry: Geometry(origin: [-40.5, 12.25, 300], spacing: [0.7, 0.9, 2.5], direction: direction))
    }

    /// Targets that keep the direction (the fused path), with and without output voxels outside the input (fill),
    /// and one in another direction (the general resampler, where the windows run as separate passes).
    static let targets: [(String, Resample.Target, Resample.Alignment)] = [
        ("1 mm, origin kept", .spacing(1, 1, 1), .origin),
        ("0.6 mm, centre kept", .spacing(0.6, 0.6, 0.6), .center),
        ("a larger grid (fill)", .reference(Geometry(origin: [-45, 8, 290], spacing: [1, 1, 1.5], direction: .identity),
                                            size: GridSize(x: 26, y: 24, z: 24)), .origin),
        ("a rotated grid", .reference(Geometry(origin: [-40, 12, 300], spacing: [1, 1, 1],
                                               direction: Direction(x: [0.8, 0.6, 0], y: [-0.6, 0.8, 0], z: [0, 0, 1])),
                                      size: GridSize(x: 16, y: 16, z: 20)), .origin),
    ]

    static let cases: [(String, Resample.Interpolation)] = targets.flatMap { target in
        Resample.Interpolation.allCases.compactMap { interpolation in
            target.0 == "a rotated grid" && interpolation == .bspline ? nil : (target.0, interpolation)
        }
    }

    static func chain(_ target: String, _ interpolation: Resample.Interpolation) -> [any VolumeTransform] {
        let (_, grid, alignment) = targets.first { $0.0 == target }!
        return [
            Window(minimum: -1000, maximum: 1000),
            Resample(to: grid, interpolation: interpolation, alignment: alignment),
            Window(minimum: -1000, maximum: 1000, output: .unit),
            Window(level: 0.5, width: 0.8, output: .symmetric),
        ]
    }

    static func expectIdentical(_ a: Volume<Float32>, _ b: Volume<Float32>) {
        #expect(a.size == b.size)
        #expect(a.geometry == b.geometry)
        let differing = zip(a.voxels, b.voxels).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(a.voxels.count) voxels differ")
    }

    @Test("same voxels as the steps one by one", arguments: cases)
    func sameAsSteps(_ target: String, _ interpolation: Resample.Interpolation) throws {
        let input = Self.volume()
        let steps = Self.chain(target, interpolation)
        var expected = input
        for step in steps { expected = try step.apply(to: expected) }

        let fused = try Compose(steps).apply(to: input)
        Self.expectIdentical(fused, expected)
        #expect(input.voxels == Self.volume().voxels, "the caller's volume is untouched")

        var inPlace = input
        try Compose(steps).apply(inPlace: &inPlace)
        Self.expectIdentical(inPlace, expected)
    }

    @Test("a chain with steps between windows and resampling, and two resamplings, is unchanged")
    func mixedChain() throws {
        let input = Self.volume()
        let steps: [any VolumeTransform] = [
            Window(minimum: -500, maximum: 500),
            Window(minimum: -1000, maximum: 300),
            Resample(to: .spacing(1.2, 1.2, 1.2)),
            Normalize.zScore(mean: 10, standardDeviation: 300),
            Window(minimum: -1, maximum: 1),
            Resample(to: .spacing(2, 2, 2), interpolation: .nearest),
            Window(minimum: -0.5, maximum: 0.5, output: .unit),
        ]
        var expected = input
        for step in steps { expected = try step.apply(to: expected) }
        Self.expectIdentical(try Compose(steps).apply(to: input), expected)
    }

    @Test("the chain's specification and key do not change with fusion")
    func specificationUnchanged() throws {
        let steps = Self.chain("1 mm, origin kept", .linear)
        #expect(Compose(steps).specification == .compose(steps.map(\.specification)))
    }
}
