import Foundation
import Hounsfield
@testable import HounsfieldHDF5
import Testing

/// `gzip:1` is written by our own run-only deflate encoder (docs/decisions.md 37) and read back by libdeflate, an
/// independent decoder; h5py (zlib) reads real shards in `ShardPythonTests`. These cases aim at the encoder's edges:
/// runs at the deflate length limits, blocks and byte planes of odd sizes, incompressible input, the first byte.
@Suite("gzip:1: the run-only deflate encoder round-trips every kind of chunk")
struct DeflateRunsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var count: Int
        var elementSize: Int
        var byte: @Sendable (Int, inout SplitMix64) -> UInt8
        var testDescription: String { "\(name), \(count) bytes, element size \(elementSize)" }
    }

    static let cases: [Case] = [
        Case(name: "one byte", count: 1, elementSize: 1) { _, _ in 42 },
        Case(name: "three equal bytes", count: 3, elementSize: 1) { _, _ in 7 },
        Case(name: "random", count: 300_001, elementSize: 4) { _, r in UInt8(truncatingIfNeeded: r.next()) },
        Case(name: "zeros", count: 1 << 20, elementSize: 4) { _, _ in 0 },
        Case(name: "runs of 257–262 bytes", count: 200_000, elementSize: 2) { i, _ in UInt8((i / (257 + (i / 5000) % 6)) % 2) },
        Case(name: "runs of 1–4 bytes", count: 100_000, elementSize: 1) { i, r in UInt8(truncatingIfNeeded: i / (1 + Int(r.next() % 4))) },
        Case(name: "two symbols", count: 70_000, elementSize: 2) { _, r in UInt8(r.next() & 1) },
        Case(name: "CT-like: air runs beside noisy body", count: 358 * 358 * 4 * 3 + 5, elementSize: 4) { i, r in
            let column = (i / 4) % 358
            return column < 60 || column > 300 ? 0 : UInt8(truncatingIfNeeded: r.next() >> 40)
        },
        Case(name: "a ramp (every byte value, skewed counts)", count: 400_000, elementSize: 1) { i, _ in UInt8(truncatingIfNeeded: (i * i) >> 9) },
    ]

    @Test("shuffle + deflate level 1, then libdeflate and unshuffle, gives the chunk back", arguments: cases)
    func roundTrip(_ c: Case) {
        var random = SplitMix64(seed: UInt64(c.count))  // deterministic: a failure can be reproduced
        let raw = (0..<c.count).map { c.byte($0, &random) }
        let codec = ChunkCodec(compression: .gzip(level: 1), elementSize: c.elementSize)
        let encoded = raw.withUnsafeBytes { codec.filter($0) }
        var back = [UInt8](repeating: 0xAA, count: c.count)
        let ok = encoded.bytes.withUnsafeBytes { stored in
            back.withUnsafeMutableBytes { codec.unfilter(stored, filterMask: encoded.filterMask, pipeline: [2, 1], into: $0) }
        }
        #expect(ok)
        #expect(back == raw)
        if encoded.filterMask == 0 { #expect(encoded.bytes.count <= c.count) }
    }

    @Test("incompressible chunks are stored raw (the filters skipped), never grown")
    func incompressible() {
        var random = SplitMix64(seed: 1)
        let raw = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let codec = ChunkCodec(compression: .gzip(level: 1), elementSize: 1)
        let encoded = raw.withUnsafeBytes { codec.filter($0) }
        #expect(encoded.bytes.count <= raw.count)
        var back = [UInt8](repeating: 0, count: raw.count)
        let ok = encoded.bytes.withUnsafeBytes { stored in
            back.withUnsafeMutableBytes { codec.unfilter(stored, filterMask: encoded.filterMask, pipeline: [2, 1], into: $0) }
        }
        #expect(ok && back == raw)
    }

    @Test("a long CT-like chunk compresses: runs become matches, not literals")
    func compresses() {
        let raw = (0..<(358 * 358 * 4 * 8)).map { i -> UInt8 in (i / 4) % 358 < 100 ? 0 : UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) }
        let encoded = raw.withUnsafeBytes { ChunkCodec(compression: .gzip(level: 1), elementSize: 4).filter($0) }
        #expect(encoded.filterMask == 0)
        #expect(Double(encoded.bytes.count) < 0.8 * Double(raw.count))
    }
}
