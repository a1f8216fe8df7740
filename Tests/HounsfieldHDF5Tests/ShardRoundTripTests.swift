import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("Shards: what is written is what is read")
struct ShardRoundTripTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var compression: String
        var chunks: String
        var testDescription: String { "\(compression), \(chunks)" }
    }

    static let cases: [Case] = [
        Case(compression: "gzip:1", chunks: "slabs"),
        Case(compression: "gzip:6", chunks: "slabs:5"),
        Case(compression: "zstd:3", chunks: "cubes:16"),
        Case(compression: "lz4", chunks: "cubes:32"),
        Case(compression: "none", chunks: "slabs:4"),
    ]

    @Test("voxels, geometry and metadata survive a round trip", arguments: cases)
    func roundTrip(_ c: Case) throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = ShardWriterOptions(compression: try ShardCompression(parsing: c.compression),
                                         chunks: try ChunkLayout(parsing: c.chunks))
        let image = ShardTestSupport.phantom()
        let label = ShardTestSupport.label(for: image)
        let metadata = VolumeMetadata(
            originalSize: GridSize(x: 512, y: 512, z: 80), originalSpacing: Vector3(0.7, 0.7, 5),
            transform: #"{"type":"window"}"#, transformKey: "abc", window: -1000...1000,
            normalization: #"{"mode":"minmax"}"#, sourceSeries: "0123abcd", modality: "CT",
            warnings: ["tilt 12.0° corrected", "uneven spacing"])
        let writer = try ShardWriter(directory: folder, options: options)
        try writer.write(image, label: label, key: "vol-a", metadata: metadata)
        try writer.write(image.converted(to: Int16.self), key: "vol-b")
        try writer.write(image.converted(to: Float16.self), key: "vol-c")
        let entries = try writer.finish()
        #expect(entries.map(\.key) == ["vol-a", "vol-b", "vol-c"])
        #expect(ShardTestSupport.files(in: folder) == ["manifest.jsonl", "shard-00000.h5"])

        let reader = try ShardReader(url: folder.appendingPathComponent("shard-00000.h5"))
        #expect(try reader.keys() == ["vol-a", "vol-b", "vol-c"])
        let a = try reader.readImage("vol-a", as: Float32.self)
        #expect(a.voxels == image.voxels)
        #expect(a.geometry == image.geometry)
        #expect(try reader.readLabel("vol-a", as: UInt8.self).voxels == label.voxels)
        #expect(try reader.readImage("vol-b", as: Int16.self).voxels == image.converted(to: Int16.self).voxels)
        #expect(try reader.readImage("vol-c", as: Float16.self).voxels == image.converted(to: Float16.self).voxels)
        let stored = try reader.volume("vol-a")
        #expect(stored.metadata == metadata)
        #expect(stored.elementType == .float32 && stored.labelElementType == .uint8)
        #expect(try reader.storedChecksum("vol-a") == stored.checksum)
        #expect(entries[0].checksum == stored.checksum)
        #expect(stored.filters == (c.compression == "none" ? [] : [2, c.compression.hasPrefix("gzip") ? 1 : c.compression.hasPrefix("zstd") ? 32015 : 32004]))
        #expect(ManifestVerification(folder: folder).run().isClean)
    }

    /// Integer storage holds round(value × value_scale); `readValues` gives the values back, as the Python reader's
    /// `scaled()` does, while `readImage` keeps the stored integers the checksum covers.
    @Test("a class map with a value above 255 is stored as uint16 and read back whole, by patch and by sampler; read as UInt8 it is refused, not saturated",
          arguments: ["gzip:1 slabs", "blosc:lz4:9 cubes:32"])
    func wideClassMap(_ settings: String) throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let parts = settings.split(separator: " ").map(String.init)
        let options = ShardWriterOptions(compression: try ShardCompression(parsing: parts[0]), chunks: try ChunkLayout(parsing: parts[1]))
        let image = ShardTestSupport.phantom()
        let labels = ShardTestSupport.wideLabels(for: image)
        #expect(labels.needsTwoBytes && labels.largestValue == 300)
        let writer = try ShardWriter(directory: folder, options: options)
        let entry = try writer.write(image, labels: labels, key: "parcellation")
        try writer.finish()
        #expect(entry.labels?.classes.count == 300)

        let reader = try ShardReader(url: folder.appendingPathComponent(entry.shard))
        #expect(try reader.volume("parcellation").labelElementType == .uint16)
        let values = try #require(labels.values)
        #expect(try reader.readLabel("parcellation", as: UInt16.self).voxels == values.voxels)
        let patch = try reader.patches("parcellation", dataset: "label").read(start: [3, 5, 7], size: [9, 10, 11], as: UInt16.self)
        #expect(patch.voxels == values.voxels.indices.filter { index in
            let z = index / values.size.voxelsPerSlice, y = (index / values.size.x) % values.size.y, x = index % values.size.x
            return (3..<12).contains(z) && (5..<15).contains(y) && (7..<18).contains(x)
        }.map { values.voxels[$0] })
        #expect(throws: ShardError.self) { try reader.readLabel("parcellation", as: UInt8.self) }
        let foreground = try reader.foregroundLocations("parcellation", maximum: 50)
        #expect(foreground.count == 50 && foreground.allSatisfy { values[$0[2], $0[1], $0[0]] != 0 })
    }

    @Test("readValues divides integer storage by value_scale; float storage is returned as stored")
    func scaledValues() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let phantom = ShardTestSupport.phantom()
        let unit = Volume(voxels: phantom.voxels.map { Float32(min(max(($0 + 1000) / 2000, 0), 1)) },
                          size: phantom.size, geometry: phantom.geometry)
        let stored = unit.converted(to: UInt8.self, scale: 255)
        let writer = try ShardWriter(directory: folder)
        try writer.write(stored, key: "scaled", metadata: VolumeMetadata(valueScale: 255))
        try writer.write(unit, key: "float", metadata: VolumeMetadata(valueScale: 255))
        try writer.finish()
        let reader = try OutputFolder(folder).reader(for: "scaled")   // found through the manifest
        #expect(throws: ShardError.self) { try OutputFolder(folder).reader(for: "absent") }
        #expect(try reader.readImage("scaled", as: UInt8.self).voxels == stored.voxels)
        #expect(try reader.readValues("scaled").voxels == stored.voxels.map { Float32($0) / 255 })
        #expect(try reader.readValues("float").voxels == unit.voxels)
        let region = try reader.readValues("scaled", start: [1, 2, 3], size: [2, 4, 5])
        #expect(region.size == GridSize(x: 5, y: 4, z: 2))
        #expect(region.voxels.allSatisfy { (0...1).contains($0) })
    }

    @Test("patches and slabs have the voxels and geometry of the region they cut", arguments: ["slabs:3", "cubes:8"])
    func regions(_ chunks: String) throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = ShardTestSupport.phantom()
        let writer = try ShardWriter(directory: folder, options: .init(chunks: try ChunkLayout(parsing: chunks)))
        try writer.write(image, key: "v")
        try writer.finish()
        let reader = try ShardReader(url: folder.appendingPathComponent("shard-00000.h5"))
        let start = [5, 7, 11], size = [9, 20, 33]
        let patch = try reader.readRegion("v", start: start, size: size, as: Float32.self)
        for z in 0..<size[0] { for y in 0..<size[1] { for x in 0..<size[2] {
            #expect(patch[x, y, z] == image[x + start[2], y + start[1], z + start[0]])
        } } }
        let corner = image.geometry.point(atIndex: Vector3(11, 7, 5))
        #expect((patch.geometry.origin - corner).length < 1e-9)
        let slab = try reader.readSlab("v", slices: 20..<23, as: Float32.self)
        #expect(slab.voxels == Array(image.voxels[(20 * 61 * 47)...]))
        #expect(throws: ShardError.self) { try reader.readRegion("v", start: [20, 0, 0], size: [4, 1, 1], as: Float32.self) }
        #expect(throws: ShardError.self) { try reader.readImage("nope") }
    }

    @Test("shards rotate by volume count and by bytes; a volume is never split")
    func rotation() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder, options: .init(maxVolumesPerShard: 2))
        for i in 0..<5 { try writer.write(ShardTestSupport.phantom(seed: UInt64(i)), key: "v\(i)") }
        let entries = try writer.finish()
        #expect(entries.map(\.shard) == ["shard-00000.h5", "shard-00000.h5", "shard-00001.h5", "shard-00001.h5", "shard-00002.h5"])
        let bytesFolder = ShardTestSupport.temporaryFolder("bytes")
        defer { try? FileManager.default.removeItem(at: bytesFolder) }
        let small = try ShardWriter(directory: bytesFolder, options: .init(maxShardBytes: 1))
        for i in 0..<3 { try small.write(ShardTestSupport.phantom(seed: UInt64(i)), key: "v\(i)") }
        #expect(try small.finish().map(\.shard) == ["shard-00000.h5", "shard-00001.h5", "shard-00002.h5"])
    }

    @Test("the same volumes written twice give the same bytes")
    func reproducible() throws {
        var hashes: [Data] = []
        for run in 0..<2 {
            let folder = ShardTestSupport.temporaryFolder("repro\(run)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let writer = try ShardWriter(directory: folder)
            try writer.write(ShardTestSupport.phantom(), key: "v", metadata: VolumeMetadata(warnings: ["w"]))
            try writer.finish()
            hashes.append(try Data(contentsOf: folder.appendingPathComponent("shard-00000.h5")))
        }
        #expect(hashes[0] == hashes[1])
    }

    @Test("bad keys, duplicate keys, mismatched labels and damaged files are errors, not crashes")
    func badInput() throws {
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder)
        let image = ShardTestSupport.phantom()
        #expect(throws: ShardError.self) { try writer.write(image, key: "a/b") }
        #expect(throws: ShardError.self) { try writer.write(image, key: "") }
        try writer.write(image, key: "v")
        #expect(throws: ShardError.self) { try writer.write(image, key: "v") }
        let wrongLabel = Volume<UInt8>(repeating: 0, size: GridSize(x: 2, y: 2, z: 2), geometry: image.geometry)
        #expect(throws: ShardError.self) { try writer.write(image, label: wrongLabel, key: "w") }
        try writer.finish()
        #expect(throws: ShardError.self) { try ShardWriter(directory: folder) }   // not resuming: refuses to mix runs

        let shard = folder.appendingPathComponent("shard-00000.h5")
        let junk = folder.appendingPathComponent("junk.h5")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: junk)
        #expect(throws: ShardError.self) { try ShardReader(url: junk) }
        var bytes = try Data(contentsOf: shard)
        let truncated = folder.appendingPathComponent("truncated.h5")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        #expect(throws: ShardError.self) { _ = try ShardReader(url: truncated).readImage("v") }
        // Flip bytes inside the compressed data: the read fails or the checksum says so.
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 1) { bytes[i] ^= 0x5A }
        try bytes.write(to: shard)
        let report = ManifestVerification(folder: folder).run()
        #expect(!report.isClean)
        #expect(report.problems.first?.key == "v")
    }
}
