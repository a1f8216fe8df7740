@testable import HounsfieldTransforms
import HounsfieldCore
import Testing

/// A clip-only window runs in Float32 inside the resampler's loops; it must give the bits of the Double definition
/// for every value, the awkward ones included.
@Suite("Window mapping: the Float32 clip equals the Double definition")
struct WindowMappingTests {
    static let values: [Float32] = [
        -.infinity, -3.4e38, -1000.0001, -1000, -999.99994, -1, -0.0, 0, .leastNonzeroMagnitude, 0.5, 1000,
        1000.0001, 3.4e38, .infinity, .nan, -.nan, Float32(bitPattern: 0x7FA0_0001),
    ] + (0..<4096).map { Float32(-2048 + $0) * 0.75 }

    @Test("clip only, ends exact in Float32 (the fast path), and ends or scales that are not", arguments: [
        (-1000.0, 1000.0, 1.0, 0.0), (-0.5, 0.25, 1.0, 0.0), (-1000.1, 1000.3, 1.0, 0.0), (-1000.0, 1000.0, 1 / 2000.0, 0.5),
    ])
    func sameBits(_ low: Double, _ high: Double, _ scale: Double, _ offset: Double) {
        let mapping = WindowMapping(low: low, high: high, scale: scale, offset: offset)
        #expect((mapping.float32Clip != nil) == (scale == 1 && offset == 0 && Double(Float32(low)) == low && Double(Float32(high)) == high))
        var mapped = [Float32](repeating: 0, count: Self.values.count)
        Self.values.withUnsafeBufferPointer { source in
            mapped.withUnsafeMutableBufferPointer { mapping.apply(source.baseAddress!, count: source.count, into: $0.baseAddress!) }
        }
        var inPlace = Self.values
        inPlace.withUnsafeMutableBufferPointer { mapping.apply(inPlace: $0.baseAddress!, count: $0.count) }
        // Whole volumes (the window's own passes), new and in place.
        let volume = Volume(voxels: Self.values, size: GridSize(x: Self.values.count, y: 1, z: 1), geometry: Geometry(origin: [0, 0, 0], spacing: [1, 1, 1], direction: .identity))
        var volumeInPlace = volume
        mapping.apply(inPlace: &volumeInPlace)
        let results = [("row", mapped), ("row in place", inPlace), ("volume", mapping.applied(to: volume).voxels),
                       ("volume in place", volumeInPlace.voxels)]
        for (path, mapped) in results {
            for (value, result) in zip(Self.values, mapped) {
                #expect(result.bitPattern == mapping(value).bitPattern, "\(path): \(value) → \(result), the definition gives \(mapping(value))")
            }
        }
    }
}
