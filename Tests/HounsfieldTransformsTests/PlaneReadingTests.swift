import Foundation
import Hounsfield
import Testing

/// A volume handed out plane by plane, as the DICOM decoder does for a streamed series; it can fail at one plane.
struct VolumePlanes: PlaneSource {
    struct Failure: Error, Equatable { let plane: Int }

    let volume: Volume<Float32>
    var failingPlane: Int?

    var size: GridSize { volume.size }
    var geometry: Geometry { volume.geometry }

    func read(plane z: Int, into plane: UnsafeMutablePointer<Float32>) throws {
        if z == failingPlane { throw Failure(plane: z) }
        let count = size.voxelsPerSlice
        volume.voxels.withUnsafeBufferPointer { plane.update(from: $0.baseAddress! + z * count, count: count) }
    }
}

/// A chain that starts with a linear resampling reads its input one plane at a time, so a streamed series is never
/// decoded whole. That is only a way of reading: the voxels must be those of the chain on the whole volume.
@Suite("Resampling that reads its input plane by plane")
struct PlaneReadingTests {
    @Test("same voxels as on the whole volume where the chain reads planes, nil elsewhere", arguments: FusedWindowTests.cases)
    func sameAsWholeVolume(_ target: String, _ interpolation: Resample.Interpolation) throws {
        let input = FusedWindowTests.volume()
        let chain = Compose(FusedWindowTests.chain(target, interpolation))
        #expect(chain.readsPlanes == (interpolation == .linear))
        let streamed = try chain.apply(toPlanesOf: VolumePlanes(volume: input))
        if interpolation == .linear && target != "a rotated grid" {
            FusedWindowTests.expectIdentical(try #require(streamed), try chain.apply(to: input))
        } else {
            // B-spline and nearest read their input otherwise; a grid in another direction needs the general resampler.
            #expect(streamed == nil)
        }
    }

    @Test("a resampling alone, and one after a window it cannot take, or after another step", arguments: [
        ("resampling alone", true),
        ("two windows first", false),
        ("normalization first", false),
    ])
    func chainsThatStartOtherwise(_ name: String, _ reads: Bool) throws {
        let resample = Resample(to: .spacing(1, 1, 1))
        let steps: [any VolumeTransform] = switch name {
        case "resampling alone": [resample, Window(minimum: -1000, maximum: 1000, output: .unit)]
        case "two windows first": [Window(minimum: -1000, maximum: 1000), Window(minimum: -500, maximum: 500), resample]
        default: [Normalize.zScore(), resample]
        }
        let chain = Compose(steps)
        let input = FusedWindowTests.volume()
        #expect(chain.readsPlanes == reads)
        let streamed = try chain.apply(toPlanesOf: VolumePlanes(volume: input))
        if reads {
            FusedWindowTests.expectIdentical(try #require(streamed), try chain.apply(to: input))
        } else {
            #expect(streamed == nil)
        }
    }

    @Test("an error of the source stops the resampling and comes out as it is", arguments: [0, 5, 10])
    func sourceErrorsAreThrown(_ plane: Int) {
        let input = FusedWindowTests.volume()
        let chain = Compose(FusedWindowTests.chain("1 mm, origin kept", .linear))
        #expect(throws: VolumePlanes.Failure(plane: plane)) {
            _ = try chain.apply(toPlanesOf: VolumePlanes(volume: input, failingPlane: plane))
        }
    }
}
