import ArgumentParser
import Foundation
import Hounsfield

/// Times writing and reading shards on the 1 mm Float32 volume of a series, and leaves that volume as raw bytes
/// (`volume.f32` + `volume.json`) so h5py can write the same array with the same settings.
struct ShardJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "Time shard writes (per codec) and reads (whole volume, random patches; slabs and cubes).")

    @Argument var folder: String
    @Option(help: "Scratch folder for the array and the shards.") var work: String
    @Option var repeats = 3
    @Option(help: "Random patches read per measurement.") var patches = 50
    @Option(help: "Patch edge (voxels).") var patch = 96
    @Option(help: "Cube chunk edge for the cube layout.") var cube = 64

    func run() async throws {
        let decoded = try await SeriesScanner().scan([folder]).series[0].loadVolume()
        let volume = try Resample(to: .spacing(1, 1, 1), interpolation: .linear).apply(to: decoded)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let shape = [volume.size.z, volume.size.y, volume.size.x]
        let slabChunk = ChunkLayout.slabs(slices: nil)
        try volume.voxels.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: "\(work)/volume.f32")) }

        func timed(_ body: () throws -> Void) rethrows -> [Double] {
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                try body()
                times.append((ContinuousClock.now - start).inSeconds)
            }
            return times
        }
        func folderFor(_ label: String) -> URL {
            let url = URL(fileURLWithPath: "\(work)/out-\(label)")
            try? FileManager.default.removeItem(at: url)
            return url
        }
        let rawBytes = Double(volume.voxels.count * 4)
        var writes: [[String: Any]] = []
        var layouts: [String: [Int]] = [:]
        let jobs: [(ShardCompression, ChunkLayout)] = [
            (.gzip(level: 1), slabChunk), (.zstd(level: 1), slabChunk), (.lz4, slabChunk), (.none, slabChunk),
            (.gzip(level: 1), .cubes(edge: cube)),
        ]
        for (compression, layout) in jobs {
            let label = "\(compression)-\(layout)".replacingOccurrences(of: ":", with: "")
            var bytes = 0
            var chunk: [Int] = []
            let times = try timed {
                let output = folderFor(label)
                let writer = try ShardWriter(directory: output, options: .init(compression: compression, chunks: layout))
                try writer.write(volume, key: "ct")
                let entries = try writer.finish()
                bytes = entries[0].bytes
                chunk = try ShardReader(url: output.appendingPathComponent(entries[0].shard)).volume("ct").chunkShape
            }
            layouts["\(layout)"] = chunk
            writes.append(["compression": "\(compression)", "chunks": "\(layout)", "chunk_shape": chunk,
                           "times_s": times, "median_s": median(times), "stored_bytes": bytes,
                           "ratio": rawBytes / Double(bytes), "mb_per_s": rawBytes / 1e6 / median(times)])
        }

        // Random patch origins, the same for every reader (h5py reads them from volume.json).
        var random = SeededGenerator(seed: 7)
        let edge = (0..<3).map { min(patch, shape[$0]) }
        let origins = (0..<patches).map { _ in (0..<3).map { Int(random.next() % UInt64(shape[$0] - edge[$0] + 1)) } }
        var reads: [[String: Any]] = []
        for layout in [slabChunk, ChunkLayout.cubes(edge: cube)] {
            let label = "gzip1-\(layout)".replacingOccurrences(of: ":", with: "")
            let shard = URL(fileURLWithPath: "\(work)/out-\(label)/shard-00000.h5")
            let reader = try ShardReader(url: shard)
            var check = 0.0
            let whole = try timed { check += Double(try reader.readImage("ct", as: Float32.self).voxels[0]) }
            let patchTimes = try timed {
                for origin in origins { check += Double(try reader.readRegion("ct", start: origin, size: edge, as: Float32.self).voxels[0]) }
            }
            reads.append(["chunks": "\(layout)", "shard": shard.path, "whole_times_s": whole, "whole_median_s": median(whole),
                          "whole_mb_per_s": rawBytes / 1e6 / median(whole),
                          "patches_times_s": patchTimes, "patches_median_s": median(patchTimes),
                          "patches_per_s": Double(patches) / median(patchTimes), "check": check])
        }
        let description: [String: Any] = [
            "shape": shape, "dtype": "float32", "chunks": layouts, "patch": edge, "origins": origins,
            "spacing": volume.geometry.spacing.array,
        ]
        try JSONSerialization.data(withJSONObject: description).write(to: URL(fileURLWithPath: "\(work)/volume.json"))
        try printJSON(["shape": shape, "raw_bytes": rawBytes, "writes": writes, "reads": reads, "threads": ProcessInfo.processInfo.activeProcessorCount])
    }
}

/// SplitMix64: a seeded generator, so the patch origins are the same in every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
