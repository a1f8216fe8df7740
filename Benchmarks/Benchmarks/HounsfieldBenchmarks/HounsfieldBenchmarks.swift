import Benchmark
import BenchmarkInputs
import Hounsfield

/// Hot paths: header discovery and decoding a 512×512×300 CT in two transfer syntaxes (issue 3), then resampling,
/// intensity transforms and shard I/O (`TransformAndShardBenchmarks.swift`). Inputs are written once into
/// BenchmarkInputs.cache.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 5)  // 2 cores, slow machine: few iterations

    Benchmark("discovery: 2000 files (headers only)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let folder = try BenchmarkInputs.manyFiles(2000)
        benchmark.startMeasurement()
        let scan = try await SeriesScanner().scan([folder])
        blackHole(scan.series.count)
    }

    for syntax in [SyntheticTransferSyntax.explicit, .jpegLossless] {
        Benchmark("decode: 512×512×300 \(syntax.rawValue)") { benchmark in
            let folder = try BenchmarkInputs.series(syntax)
            let series = try await SeriesScanner().scan([folder]).series[0]
            benchmark.startMeasurement()
            blackHole(try await series.loadVolume(.asAcquired).voxels.count)
        }
    }

    transformAndShardBenchmarks()
}
