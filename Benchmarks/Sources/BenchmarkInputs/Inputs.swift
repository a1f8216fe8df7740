import Foundation
import Hounsfield

/// Synthetic inputs for benchmarks, written once and reused (they take seconds to minutes to make).
public enum BenchmarkInputs {
    /// `$HOUNSFIELD_BENCH_CACHE`, else `<tmp>/hounsfield-bench-cache`.
    public static var cache: String {
        ProcessInfo.processInfo.environment["HOUNSFIELD_BENCH_CACHE"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("hounsfield-bench-cache").path
    }

    /// One CT series (default 512×512×300 at 0.7×0.7×1.25 mm) in the given transfer syntax.
    public static func series(
        _ syntax: SyntheticTransferSyntax, size: Int = 512, slices: Int = 300, in folder: String? = nil
    ) throws -> String {
        let path = folder ?? "\(cache)/series-\(syntax.rawValue)-\(size)x\(slices)"
        try writeOnce(path) {
            try SyntheticSeries(size: size, slices: slices, syntax: syntax, shuffleNames: true).write(to: path)
        }
        return path
    }

    /// The explicit 512×512×300 series decoded as acquired (decoded anew on each call: ~0.1 s).
    public static func decodedSeries() async throws -> Volume<Float32> {
        let folder = try series(.explicit)
        return try await SeriesScanner().scan([folder]).series[0].loadVolume(.asAcquired)
    }

    /// That series resampled to 1 mm, linear: 375×358×358, the volume the shard benchmarks write.
    public static func resampledSeries() async throws -> Volume<Float32> {
        try Resample(to: .spacing(1, 1, 1), interpolation: .linear).apply(to: try await decodedSeries())
    }

    /// A gzip:1 shard holding the 1 mm volume under key "ct", written once per chunk layout.
    public static func resampledShard(chunks: ChunkLayout) async throws -> URL {
        let folder = "\(cache)/shard-gzip1-\(chunks)".replacingOccurrences(of: " ", with: "")
        let url = URL(fileURLWithPath: folder).appendingPathComponent("shard-00000.h5")
        if FileManager.default.fileExists(atPath: folder + ".complete") { return url }
        try? FileManager.default.removeItem(atPath: folder)
        let writer = try ShardWriter(directory: URL(fileURLWithPath: folder), options: .init(chunks: chunks))
        try writer.write(try await resampledSeries(), key: "ct")
        _ = try writer.finish()
        _ = FileManager.default.createFile(atPath: folder + ".complete", contents: Data())
        return url
    }

    /// `count` CT series (default 512×512×80) with their own UIDs and noise, `series-NN` folders: a batch.
    public static func batch(
        _ count: Int, syntax: SyntheticTransferSyntax = .explicit, size: Int = 512, slices: Int = 80,
        in folder: String? = nil
    ) throws -> String {
        let path = folder ?? "\(cache)/batch-\(count)-\(syntax.rawValue)-\(size)x\(slices)"
        try writeOnce(path) {
            for index in 0..<count {
                try SyntheticSeries(size: size, slices: slices, syntax: syntax, seed: UInt64(index + 1))
                    .write(to: "\(path)/series-\(String(format: "%02d", index))")
            }
        }
        return path
    }

    /// `files` small files (64×64, 100 slices per series, explicit VR) in one folder per series: a stand-in for an
    /// archive, to measure discovery.
    public static func manyFiles(_ files: Int, in folder: String? = nil) throws -> String {
        let path = folder ?? "\(cache)/many-\(files)"
        try writeOnce(path) {
            let perSeries = 100
            for index in 0..<((files + perSeries - 1) / perSeries) {
                let slices = min(perSeries, files - index * perSeries)
                try SyntheticSeries(size: 64, slices: slices, spacing: Vector3(4, 4, 2.5), seed: UInt64(index + 1))
                    .write(to: "\(path)/series-\(index)")
            }
        }
        return path
    }

    /// Writes into `path` unless a previous run finished it (marked by a `<path>.complete` file beside it, so the
    /// marker is never scanned as an input).
    private static func writeOnce(_ path: String, _ write: () throws -> Void) throws {
        let marker = path + ".complete"
        if FileManager.default.fileExists(atPath: marker) { return }
        try? FileManager.default.removeItem(atPath: path)
        try write()
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
    }
}
