import HounsfieldCore
import Testing

/// `converted(to:scale:)` runs specialized code for the pipeline's casts (Float32 into int16, uint8, float16,
/// float32) and the shard reader's (each of those into Float32); each must give exactly
/// `Target(hounsfield: value × scale)`, the definition, on the values where rounding and saturation decide.
@Suite("Volume conversion")
struct ConversionTests {
    /// Ties, the ends of each type's range and beyond, signed zeros, infinities, NaN, and noise.
    static let values: [Float32] = {
        var values: [Float32] = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 254.5, 255.5, 256, -1, 32766.5, 32767.5, -32768.5,
                                 -32769, 65504, 65520, -65520, 1e9, -1e9, .infinity, -.infinity, .nan,
                                 .leastNonzeroMagnitude, 0.1, 1.0 / 3]
        var random = SplitMix64(seed: 3)
        values += (0..<4000).map { _ in Float32(Double.random(in: -40000...40000, using: &random)) }
        return values
    }()

    static let volume = Volume(voxels: values, size: GridSize(x: values.count, y: 1, z: 1), geometry: Geometry(origin: Vector3(0, 0, 0), spacing: Vector3(1, 1, 1), direction: .identity))

    static func expectDefinition<Target: VoxelScalar>(_ type: Target.Type, scale: Double, bits: (Target) -> UInt64) {
        let converted = volume.converted(to: type, scale: scale).voxels
        let differing = zip(values, converted).filter { bits(Target(hounsfield: Double($0) * scale)) != bits($1) }
        #expect(differing.isEmpty, "\(differing.count) values differ from the definition, first \(String(describing: differing.first))")
    }

    @Test("each cast gives its definition's bits", arguments: [1.0, 255.0, 0.001])
    func definition(scale: Double) {
        Self.expectDefinition(Int16.self, scale: scale) { UInt64(UInt16(bitPattern: $0)) }
        Self.expectDefinition(UInt8.self, scale: scale) { UInt64($0) }
        Self.expectDefinition(Float32.self, scale: scale) { UInt64($0.bitPattern) }
        Self.expectDefinition(Float16.self, scale: scale) { UInt64($0.bitPattern) }
    }

    @Test("float16: every half, every tie between two halves and the floats beside it, and a million random patterns, as Swift converts them")
    func halfRounding() {
        var values: [Float32] = []
        for bits in UInt16(0)...UInt16(0x7BFF) {
            let low = Float32(Float16(bitPattern: bits)), high = Float32(Float16(bitPattern: bits + 1))
            let tie = (Double(low) + Double(high)) / 2
            for value in [low, Float32(tie), Float32(tie).nextUp, Float32(tie).nextDown] { values += [value, -value] }
        }
        var random = SplitMix64(seed: 16)
        values += (0..<1_000_000).map { _ in Float32(bitPattern: UInt32(truncatingIfNeeded: random.next())) }
        let volume = Volume(voxels: values, size: GridSize(x: values.count, y: 1, z: 1),
                            geometry: Geometry(origin: Vector3(0, 0, 0), spacing: Vector3(1, 1, 1), direction: .identity))
        let converted = volume.converted(to: Float16.self).voxels
        let differing = zip(values, converted).filter { Float16(hounsfield: Double($0)).bitPattern != $1.bitPattern }
        #expect(differing.isEmpty, "\(differing.count) of \(values.count) differ, first \(String(describing: differing.first))")
    }

    @Test("stored types read back into Float32 give the definition's bits", arguments: [1.0, 0.5])
    func reading(scale: Double) {
        func expect<Source: VoxelScalar>(_ source: Volume<Source>) {
            let converted = source.converted(to: Float32.self, scale: scale).voxels
            let differing = zip(source.voxels, converted).filter {
                Float32(hounsfield: $0.doubleValue * scale).bitPattern != $1.bitPattern
            }
            #expect(differing.isEmpty, "\(Source.self): \(differing.count) values differ from the definition")
        }
        expect(Self.volume.converted(to: Int16.self))
        expect(Self.volume.converted(to: UInt8.self))
        expect(Self.volume.converted(to: Float16.self))
    }
}
