import ArgumentParser
import BenchmarkInputs
import Foundation
import Hounsfield

/// The Hounsfield side of `Benchmarks/peers/compare.py`: makes inputs and times discovery and decoding in process,
/// printing JSON, so the comparison with SimpleITK measures the same work without process start-up.
@main
struct HFBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hf-bench", abstract: "Timing helper for the peer comparison.",
        subcommands: [Make.self, Decode.self, Discover.self, ResampleJob.self, IntensityJob.self, ShardJob.self,
                      LatencyJob.self, JournalJob.self, LabelJob.self])
}

struct Make: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write benchmark inputs.")

    enum Kind: String, ExpressibleByArgument { case series, many, batch }

    @Option var output: String
    @Option var kind: Kind = .series
    @Option var syntax: SyntheticTransferSyntax = .explicit
    @Option var size = 512
    @Option var slices = 300
    @Option var files = 10_000
    @Option(help: "Series in a batch (kind batch), each in its own folder with its own seed.") var count = 24

    func run() throws {
        switch kind {
        case .series: _ = try BenchmarkInputs.series(syntax, size: size, slices: slices, in: output)
        case .many: _ = try BenchmarkInputs.manyFiles(files, in: output)
        case .batch: _ = try BenchmarkInputs.batch(count, syntax: syntax, size: size, slices: slices, in: output)
        }
    }
}

extension SyntheticTransferSyntax: @retroactive ExpressibleByArgument {}

struct Decode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scan a folder and decode its series as acquired.")

    @Argument var folder: String
    /// `--repeat` or `--repeats`.
    @Option(name: [.customLong("repeat"), .customLong("repeats")]) var repeats = 5

    func run() async throws {
        var times: [Double] = []
        var voxels = 0
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            let scan = try await SeriesScanner().scan([folder])
            for series in scan.series { voxels = try await series.loadVolume(.asAcquired).voxels.count }
            times.append((ContinuousClock.now - start).inSeconds)
        }
        try printJSON(["times_s": times, "median_s": median(times), "voxels": voxels])
    }
}

struct Discover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Scan headers only.")

    @Argument var folder: String
    /// `--repeat` or `--repeats`.
    @Option(name: [.customLong("repeat"), .customLong("repeats")]) var repeats = 3

    func run() async throws {
        var times: [Double] = []
        var files = 0, series = 0
        var phases: [[String: Double]] = []
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            let scan = try await SeriesScanner().scan([folder])
            times.append((ContinuousClock.now - start).inSeconds)
            (files, series) = (scan.fileCount, scan.series.count)
            phases.append(scan.seconds)
        }
        try printJSON([
            "files": files, "series": series, "times_s": times, "median_s": median(times), "phases_s": phases,
            "files_per_s": Double(files) / median(times),
        ])
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

struct ResampleJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resample", abstract: "Decode a series once, then time resampling it to an isotropic spacing.")

    @Argument var folder: String
    @Option var spacing = 1.0
    @Option var interpolation: Resample.Interpolation = .linear
    @Option var repeats = 5

    func run() async throws {
        let volume = try await SeriesScanner().scan([folder]).series[0].loadVolume()
        let resample = Resample(to: .spacing(spacing, spacing, spacing), interpolation: interpolation)
        var times: [Double] = []
        var size = GridSize(x: 0, y: 0, z: 0)
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            size = try resample.apply(to: volume).size
            times.append((ContinuousClock.now - start).inSeconds)
        }
        try printJSON(["times_s": times, "median_s": median(times), "output_size": size.array,
                       "input_size": volume.size.array])
    }
}

extension Resample.Interpolation: @retroactive ExpressibleByArgument {}

struct IntensityJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intensity",
        abstract: "Time window [-1000, 1000] → [0, 1] and a z-score against a plain copy of the same buffer.")

    @Argument var folder: String
    @Option var repeats = 5

    func run() async throws {
        let volume = try await SeriesScanner().scan([folder]).series[0].loadVolume()
        func time(_ body: () throws -> Void) rethrows -> Double {
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                try body()
                times.append((ContinuousClock.now - start).inSeconds)
            }
            return median(times)
        }
        let window = Window(minimum: -1000, maximum: 1000, output: .unit)
        let normalize = Normalize.zScore(mean: -300, standardDeviation: 450)
        let windowSeconds = try time { _ = try window.apply(to: volume) }
        let normalizeSeconds = try time { _ = try normalize.apply(to: volume) }
        // The floor: copying the same buffer into new memory, on all cores, the way the transforms write.
        let copySeconds = time {
            let copy = volume.voxels.withUnsafeBufferPointer { input in
                Volume<Float32>(size: volume.size, geometry: volume.geometry) { output in
                    // Slices go to disjoint ranges of `output`, one per iteration.
                    let base = Int(bitPattern: output.baseAddress), plane = volume.size.voxelsPerSlice
                    let source = Int(bitPattern: input.baseAddress)
                    DispatchQueue.concurrentPerform(iterations: volume.size.z) { k in
                        (UnsafeMutablePointer<Float32>(bitPattern: base)! + k * plane)
                            .update(from: UnsafePointer<Float32>(bitPattern: source)! + k * plane, count: plane)
                    }
                }
            }
            precondition(copy.voxels.count == volume.voxels.count)
        }
        let voxels = Double(volume.voxels.count)
        try printJSON([
            "voxels": volume.voxels.count,
            "window_voxels_per_s": voxels / windowSeconds, "zscore_voxels_per_s": voxels / normalizeSeconds,
            "copy_voxels_per_s": voxels / copySeconds, "window_s": windowSeconds, "zscore_s": normalizeSeconds,
            "copy_s": copySeconds,
        ])
    }
}
