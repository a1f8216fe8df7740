import Foundation
import Hounsfield
import HounsfieldCore
import HounsfieldHDF5
import HounsfieldTestSupport
import Testing

/// The training layout (32³ cubes, Blosc 1, HDF5 filter 32001; docs/decisions.md 51): what the writer stores, and
/// that every reader gets the voxels back exactly.
@Suite("Training layout: Blosc chunks")
struct TrainingLayoutTests {
    /// A volume whose sides are not multiples of 32, so edge chunks are zero-padded.
    static func volume() -> Volume<Float32> { ShardTestSupport.phantom(size: GridSize(x: 70, y: 45, z: 37), seed: 5) }

    static func write(_ image: Volume<Float32>, layout: ShardLayout, in folder: URL, key: String = "ct") throws -> ManifestEntry {
        let writer = try ShardWriter(directory: folder, options: .init(compression: layout.compression, chunks: layout.chunks))
        try writer.write(image, key: key)
        return try #require(try writer.finish().first)
    }

    @Test("the presets: training is 32³ cubes + blosc:lz4:9, archive is slabs + gzip:1")
    func presets() throws {
        #expect(ShardLayout.training.chunks == .cubes(edge: 32))
        #expect(ShardLayout.training.compression == .blosc(.lz4, level: 9))
        #expect(ShardLayout.archive.chunks == .default && ShardLayout.archive.compression == .default)
        #expect(try ShardLayout(parsing: "Training") == .training)
        #expect(throws: ShardError.self) { try ShardLayout(parsing: "fast") }
        #expect(ShardLayout(chunks: .cubes(edge: 64), compression: .lz4) == nil)
    }

    @Test("blosc compression parses and prints: blosc:COMPRESSOR:LEVEL, blosc:COMPRESSOR, blosc")
    func parsing() throws {
        #expect(try ShardCompression(parsing: "blosc:lz4hc:9") == .blosc(.lz4hc, level: 9))
        #expect(try ShardCompression(parsing: "BLOSC:zstd:1") == .blosc(.zstd, level: 1))
        #expect(try ShardCompression(parsing: "blosc:blosclz") == .blosc(.blosclz, level: 9))
        #expect(try ShardCompression(parsing: "blosc") == ShardLayout.training.compression)
        #expect(ShardCompression.blosc(.lz4, level: 5).description == "blosc:lz4:5")
        for bad in ["blosc:lz5:1", "blosc:lz4:0", "blosc:lz4:10", "blosc:lz4:x", "blosc:lz4:1:2"] {
            #expect(throws: ShardError.self, "\(bad)") { try ShardCompression(parsing: bad) }
        }
    }

    @Test("a training-layout volume reads back voxel-identical, whole and in patches, with the gzip layout's checksum")
    func swiftReaderRoundTrip() throws {
        let image = Self.volume()
        let training = ShardTestSupport.temporaryFolder(), archive = ShardTestSupport.temporaryFolder()
        defer { for folder in [training, archive] { try? FileManager.default.removeItem(at: folder) } }
        let blosc = try Self.write(image, layout: .training, in: training)
        let gzip = try Self.write(image, layout: .archive, in: archive)
        #expect(blosc.checksum == gzip.checksum)

        let reader = try ShardReader(url: training.appendingPathComponent(blosc.shard))
        let stored = try reader.volume("ct")
        #expect(stored.chunkShape == [32, 32, 32] && stored.filters == [32001])
        #expect(stored.layout == "training")
        #expect(try ShardReader(url: archive.appendingPathComponent(gzip.shard)).volume("ct").layout == "archive")
        #expect(try reader.storedChecksum("ct") == blosc.checksum)
        #expect(try reader.readImage("ct").voxels == image.voxels)
        // Patches that straddle chunk edges and the zero-padded edge chunks.
        let size = image.size
        for (start, extent) in [([0, 0, 0], [1, 1, 1]), ([5, 30, 31], [30, 15, 39]), ([31, 13, 60], [6, 32, 10]),
                                ([0, 0, 0], [37, 45, 70])] {
            let patch = try reader.readRegion("ct", start: start, size: extent)
            var expected: [Float32] = []
            for z in start[0]..<(start[0] + extent[0]) {
                for y in start[1]..<(start[1] + extent[1]) {
                    let row = (z * size.y + y) * size.x
                    expected += image.voxels[(row + start[2])..<(row + start[2] + extent[2])]
                }
            }
            #expect(patch.voxels == expected, "patch at \(start) of \(extent)")
        }
    }

    @Test("VolumePatches (dataset kept open, geometry cached) gives readRegion's voxels and geometry, in both layouts")
    func volumePatches() throws {
        let image = Self.volume()
        for layout in ShardLayout.allCases {
            let folder = ShardTestSupport.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let entry = try Self.write(image, layout: layout, in: folder)
            let reader = try ShardReader(url: folder.appendingPathComponent(entry.shard))
            let patches = try reader.patches("ct")
            #expect(patches.shape == [37, 45, 70] && patches.elementType == .float32 && patches.valueScale == 1)
            var random = SplitMix64(seed: 9)
            for _ in 0..<12 {
                let size = [37, 45, 70].map { 1 + Int(random.next() % UInt64($0)) }
                let start = zip([37, 45, 70], size).map { Int(random.next() % UInt64($0 - $1 + 1)) }
                let patch = try patches.values(start: start, size: size)
                let expected = try reader.readRegion("ct", start: start, size: size)
                #expect(patch.voxels == expected.voxels, "\(layout) \(start) \(size)")
                #expect(patch.geometry == expected.geometry)
            }
            #expect(throws: ShardError.self) { try patches.read(start: [30, 0, 0], size: [8, 1, 1]) }
        }
    }

    @Test("every Blosc compressor round-trips and records c-blosc's compressor code in cd_values[6]", arguments: [
        (BloscCompressor.blosclz, 0), (.lz4, 1), (.lz4hc, 2), (.zstd, 5),
    ])
    func compressors(_ compressor: BloscCompressor, _ code: Int) throws {
        let image = Self.volume()
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try ShardWriter(directory: folder, options: .init(compression: .blosc(compressor, level: 3), chunks: .cubes(edge: 32)))
        try writer.write(image, key: "ct")
        let entry = try #require(try writer.finish().first)
        let reader = try ShardReader(url: folder.appendingPathComponent(entry.shard))
        #expect(try reader.readImage("ct").voxels == image.voxels)
        #expect(try reader.volume("ct").layout == "custom")
        let dump = try Self.h5dump(["-H", "-p", "-d", "/volumes/ct/image", folder.appendingPathComponent(entry.shard).path])
        #expect(dump.contains("FILTER_ID 32001") && dump.contains("PARAMS { 2 2 4 131072 3 1 \(code) }"), "\(dump)")
    }

    @Test("a chunk Blosc cannot shrink is stored raw (filter mask 1) and still reads back")
    func incompressibleChunks() throws {
        var random = SplitMix64(seed: 42)
        let size = GridSize(x: 64, y: 64, z: 32)  // whole chunks: no zero padding that would compress
        let image = Volume<Float32>(size: size, geometry: ShardTestSupport.geometry) { buffer in
            for i in buffer.indices { buffer[i] = Float32(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x7f7f_ffff) }
        }
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = try Self.write(image, layout: .training, in: folder)
        let reader = try ShardReader(url: folder.appendingPathComponent(entry.shard))
        // 1 × 2 × 2 chunks of 32³ float32, every one stored as its raw 128 KiB.
        let storedBytes = try reader.volume("ct").storedBytes
        #expect(storedBytes == 4 * 131_072, "\(storedBytes)")
        #expect(try reader.readImage("ct").voxels.elementsEqual(image.voxels) { $0.bitPattern == $1.bitPattern })
        #expect(try reader.storedChecksum("ct") == entry.checksum)
    }

    @Test("h5py with hdf5plugin and the Python reader's fast path read the Swift-written voxels exactly",
          .enabled(if: PythonPeer.shouldRun, "needs HOUNSFIELD_PYTHON (scripts/test.sh)"))
    func pythonReadersAgree() async throws {
        let image = Self.volume()
        let folder = ShardTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let entry = try Self.write(image, layout: .training, in: folder)
        let raw = folder.appendingPathComponent("expected.f32")
        try RawFloats.write(image.voxels, to: raw)
        let data = try await PythonPeer.output(
            "check_blosc_shard.py", arguments: [folder.appendingPathComponent(entry.shard).path, "ct", raw.path])
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(report["h5py_identical"] as? Bool == true)
        #expect(report["fast_path"] as? Bool == true, "fast path library: \(report["fast_path_library"] ?? "none")")
        #expect(report["read_path"] as? String == "native", "the C loop: \(report["native_loop_problem"] ?? "")")
        #expect(report["fast_identical"] as? Bool == true)
        #expect(report["fast_patches_identical"] as? Bool == true)
        #expect(report["layout_attribute"] as? String == "training")
        #expect(report["chunks"] as? [Int] == [32, 32, 32])
        // Decision 51's byte format: one optional filter 32001 with its seven cd_values, and each chunk one Blosc
        // buffer (version 2, flags 0x21 = byte shuffle + LZ4 format + split, typesize 4) of two 64 KiB blocks.
        let filters = try #require(report["filters"] as? [[String: Any]])
        #expect(filters.count == 1)
        #expect(filters.first?["id"] as? Int == 32001 && filters.first?["optional"] as? Bool == true)
        #expect(filters.first?["cd_values"] as? [Int] == [2, 2, 4, 131072, 9, 1, 1])
        #expect(report["chunk_headers"] as? [[Int]] == [[2, 0x21, 4, 131072, 65536, 1]])
        #expect(report["raw_chunks"] as? Int == 0)
    }

    /// h5dump's output (Debian's hdf5-tools; it prints a filter's parameters without the filter itself).
    static func h5dump(_ arguments: [String]) throws -> String { try toolOutput("/usr/bin/h5dump", arguments) }
}
