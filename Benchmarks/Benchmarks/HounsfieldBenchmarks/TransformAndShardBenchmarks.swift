import Benchmark
import BenchmarkInputs
import Foundation
import Hounsfield

/// Hot paths of issues 4 and 5 on the 512×512×300 explicit series: resampling to 1 mm per interpolator, the
/// intensity transforms, the usual chain fused and step by step, and shard writing (per codec, fsync included) and reading (whole volume, random patches).
/// The decode (and, for shards, the resampling) happens before `startMeasurement`.
func transformAndShardBenchmarks() {
    for interpolation in [Resample.Interpolation.nearest, .linear, .bspline] {
        Benchmark("resample: 512×512×300 → 1 mm, \(interpolation)") { benchmark in
            let volume = try await BenchmarkInputs.decodedSeries()
            let resample = Resample(to: .spacing(1, 1, 1), interpolation: interpolation)
            benchmark.startMeasurement()
            blackHole(try resample.apply(to: volume).voxels.count)
        }
    }

    Benchmark("window: [-1000, 1000] → [0, 1], 79 M voxels") { benchmark in
        let volume = try await BenchmarkInputs.decodedSeries()
        benchmark.startMeasurement()
        blackHole(try Window(minimum: -1000, maximum: 1000, output: .unit).apply(to: volume).voxels.count)
    }

    Benchmark("window in place: [-1000, 1000], 79 M voxels") { benchmark in
        var volume = try await BenchmarkInputs.decodedSeries()
        volume.voxels[0] += 0  // own the voxels before measuring: the copy-on-write is not the transform's cost
        benchmark.startMeasurement()
        try Window(minimum: -1000, maximum: 1000).apply(inPlace: &volume)
        blackHole(volume.voxels.count)
    }

    // The usual chain, run by `Compose` with both windows inside the resampler (decision 30), beside the same
    // three steps one after the other: the difference is what fusing saves.
    let chain: [any VolumeTransform] = [
        Window(minimum: -1000, maximum: 1000), Resample(to: .spacing(1, 1, 1)),
        Window(minimum: -1000, maximum: 1000, output: .unit),
    ]
    Benchmark("chain: clip → 1 mm linear → [0, 1], fused (Compose)") { benchmark in
        var volume = try await BenchmarkInputs.decodedSeries()
        volume.voxels[0] += 0
        benchmark.startMeasurement()
        try Compose(chain).apply(inPlace: &volume)
        blackHole(volume.voxels.count)
    }
    Benchmark("chain: clip → 1 mm linear → [0, 1], step by step") { benchmark in
        var volume = try await BenchmarkInputs.decodedSeries()
        volume.voxels[0] += 0
        benchmark.startMeasurement()
        for step in chain { try step.apply(inPlace: &volume) }
        blackHole(volume.voxels.count)
    }

    Benchmark("normalize: z-score with per-volume statistics, 79 M voxels") { benchmark in
        let volume = try await BenchmarkInputs.decodedSeries()
        benchmark.startMeasurement()
        blackHole(try Normalize.zScore().apply(to: volume).voxels.count)
    }

    for compression in [ShardCompression.gzip(level: 1), .zstd(level: 1), .lz4, .none] {
        Benchmark("shard write: 1 mm float32 (192 MB), \(compression), slabs") { benchmark in
            let volume = try await BenchmarkInputs.resampledSeries()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-bench-shard-\(UUID())")
            defer { try? FileManager.default.removeItem(at: folder) }
            benchmark.startMeasurement()
            let writer = try ShardWriter(directory: folder, options: .init(compression: compression))
            try writer.write(volume, key: "ct")
            blackHole(try writer.finish().count)
        }
    }

    for chunks in [ChunkLayout.slabs(slices: nil), .cubes(edge: 64)] {
        Benchmark("shard read: whole 1 mm volume, gzip:1, \(chunks)") { benchmark in
            let shard = try await BenchmarkInputs.resampledShard(chunks: chunks)
            benchmark.startMeasurement()
            blackHole(try ShardReader(url: shard).readImage("ct").voxels.count)
        }
        Benchmark("shard read: 20 random 96³ patches, gzip:1, \(chunks)", configuration: .init(scalingFactor: .one)) { benchmark in
            let shard = try await BenchmarkInputs.resampledShard(chunks: chunks)
            let reader = try ShardReader(url: shard)
            var generator = SystemRandomNumberGenerator()
            let origins = (0..<20).map { _ in [Int.random(in: 0..<279, using: &generator),
                                               Int.random(in: 0..<262, using: &generator),
                                               Int.random(in: 0..<262, using: &generator)] }
            benchmark.startMeasurement()
            for origin in origins {
                blackHole(try reader.readRegion("ct", start: origin, size: [96, 96, 96]).voxels.count)
            }
        }
    }
}
