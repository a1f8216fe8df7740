import Foundation
import HounsfieldCore
@testable import HounsfieldDaemon
import HounsfieldHDF5
@testable import HounsfieldPipeline
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

/// The per-study answer written a piece at a time: the bytes must be exactly the safetensors file the format
/// describes, whatever the piece boundaries, and the header must carry the checksums of the voxels that follow.
@Suite("HTTP API: the safetensors answer, written in pieces")
struct SafetensorsAnswerTests {
    /// A response body writer that keeps every piece.
    struct Collector: ResponseBodyWriter {
        var pieces: [ByteBuffer] = []
        mutating func write(_ buffer: ByteBuffer) async throws { pieces.append(buffer) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static let geometry = Geometry(origin: Vector3(-10, 20, 30), spacing: Vector3(0.7, 0.7, 1.25), direction: .identity)

    @Test("images and labels larger than a piece come out whole, in order, after the header; the header's checksums are the voxels'")
    func piecesMakeTheFile() async throws {
        // 300×200×20 float32 is 4.8 MB (two pieces); its class map 1.2 M voxels of UInt16 written as bytes; a
        // second volume with two label channels; an int16 image.
        let size = GridSize(x: 300, y: 200, z: 20)
        let image = Volume<Float32>(voxels: (0..<size.voxelCount).map { Float32($0 % 9973) / 7 }, size: size, geometry: Self.geometry)
        let classes = Volume<UInt16>(voxels: (0..<size.voxelCount).map { UInt16($0 % 3) }, size: size, geometry: Self.geometry)
        let small = GridSize(x: 40, y: 30, z: 6)
        let channel = { (seed: Int) in Volume<UInt8>(voxels: (0..<small.voxelCount).map { UInt8(($0 + seed) % 2) }, size: small, geometry: Self.geometry) }
        let labelClasses = [LabelClass(value: 1, name: "a"), LabelClass(value: 2, name: "b")]
        let volumes = [
            ProcessedVolume(key: "k1", image: .float32(image), metadata: VolumeMetadata(),
                            labels: LabelMap(classIndex: classes, classes: labelClasses)),
            ProcessedVolume(key: "k2", image: .int16(Volume<Int16>(voxels: (0..<small.voxelCount).map { Int16($0 % 500) - 250 },
                                                                    size: small, geometry: Self.geometry)),
                            metadata: VolumeMetadata(),
                            labels: LabelMap(channels: [channel(0), channel(1)], classes: labelClasses)),
        ]
        let answer = SafetensorsEncoding.answer(volumes, configurationKey: "c", keepsIdentifiers: false)
        var writer: any ResponseBodyWriter = Collector()
        try await answer.write(to: &writer)
        let pieces = (writer as! Collector).pieces
        #expect(pieces.allSatisfy { $0.readableBytes <= SafetensorsAnswer.pieceBytes + answer.header.readableBytes })
        let bytes = pieces.flatMap { Array($0.readableBytesView) }
        #expect(bytes.count == answer.byteCount)

        var expected = Array(answer.header.readableBytesView)
        expected += image.voxels.withUnsafeBytes { Array($0) }
        expected += classes.voxels.map { UInt8($0) }
        if case .int16(let second) = volumes[1].image { expected += second.voxels.withUnsafeBytes { Array($0) } }
        expected += channel(0).voxels + channel(1).voxels
        #expect(bytes == expected)

        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        let metadata = try #require(header["__metadata__"] as? [String: String])
        #expect(metadata["k1.checksum"] == "\"\(image.storedChecksum)\"")
        let offsets = try #require((header["k1"] as? [String: Any])?["data_offsets"] as? [Int])
        #expect(offsets == [0, size.voxelCount * 4])
        let label = try #require((header["k2.label"] as? [String: Any])?["shape"] as? [Int])
        #expect(label == [2, 6, 30, 40])
    }

    @Test("a class map with a value above 255 is a U16 tensor of the map's little-endian values, as the shard stores it")
    func wideClassMapIsU16() async throws {
        let size = GridSize(x: 70, y: 50, z: 4)
        let image = Volume<Float32>(voxels: (0..<size.voxelCount).map { Float32($0) }, size: size, geometry: Self.geometry)
        let values = Volume<UInt16>(voxels: (0..<size.voxelCount).map { UInt16($0 % 301) }, size: size, geometry: Self.geometry)
        let labels = LabelMap(classIndex: values, classes: (1...300).map { LabelClass(value: $0, name: "r\($0)") })
        let answer = SafetensorsEncoding.answer([ProcessedVolume(key: "p", image: .float32(image), metadata: VolumeMetadata(), labels: labels)],
                                               configurationKey: "c", keepsIdentifiers: false)
        var writer: any ResponseBodyWriter = Collector()
        try await answer.write(to: &writer)
        let bytes = (writer as! Collector).pieces.flatMap { Array($0.readableBytesView) }
        #expect(bytes.count == answer.byteCount)
        let headerLength = answer.header.readableBytes
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<headerLength])) as? [String: Any])
        let tensor = try #require(header["p.label"] as? [String: Any])
        #expect(tensor["dtype"] as? String == "U16")
        let offsets = try #require(tensor["data_offsets"] as? [Int])
        #expect(offsets == [size.voxelCount * 4, size.voxelCount * 6])
        #expect(Array(bytes[(headerLength + offsets[0])...]) == values.voxels.withUnsafeBytes { Array($0) })
    }
}
