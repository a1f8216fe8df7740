import ArgumentParser
import Hounsfield

/// Training data without a preprocessing run: find the series, decode them to HU, transform them in memory and
/// sample them. Fine for a quick experiment; for real training, `hounsfield run` once and read the shards, so each
/// epoch does not decode and resample again.
struct DICOMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicom",
        abstract: "Find every series under the inputs, decode and transform each in memory, and read random patches."
    )

    @Argument(help: "DICOM files or folders (searched recursively).")
    var inputs: [String]

    @Option(help: "HU window to clip to, as LEVEL,WIDTH (as `hounsfield run --window`).")
    var window = "0,2000"

    @Option(help: "Isotropic target spacing in mm.")
    var spacing = 1.0

    @OptionGroup var sampling: SamplingOptions

    func run() async throws {
        let levelWidth = window.split(separator: ",").compactMap { Double($0) }
        guard levelWidth.count == 2, levelWidth[1] > 0 else {
            throw ValidationError("--window takes LEVEL,WIDTH with a positive width, e.g. 40,400")
        }
        // The MONAI/TorchIO vocabulary: clip to the window, resample, scale to [0, 1]. The chain's specification has
        // a stable key: the same key as a shard's `transform_key` means the same preprocessing.
        let chain = Compose([
            Window(level: levelWidth[0], width: levelWidth[1]),
            Resample(to: .spacing(spacing, spacing, spacing), interpolation: .linear),
            Normalize.minMax(),
        ])
        print("transform key \(chain.specification.key.prefix(12))…")

        // Headers only: fast, and every file that forms no series comes back with its reason instead of an error.
        let scan = try await SeriesScanner().scan(inputs)
        print("\(scan.fileCount) file(s): \(scan.series.count) series, \(scan.excluded.count) file(s) excluded")
        for file in scan.excluded.prefix(5) { print("  excluded \(file.file): \(file.reason)") }
        guard !scan.series.isEmpty else { throw ValidationError("no series under \(inputs.joined(separator: ", "))") }

        var keys: [String] = []
        var volumes: [Volume<Float32>] = []
        for series in scan.series {
            // HU, tilt corrected and evenly spaced, with its geometry; the chain then runs on all cores.
            let decoded = try await series.loadVolume()
            let tensor = try chain.apply(to: decoded)
            let spacing = tensor.geometry.spacing
            print("\(series.key.prefix(40)): \(series.size) → \(tensor.size) voxels (x×y×z), "
                  + format("spacing %.3f, %.3f, %.3f mm", spacing.x, spacing.y, spacing.z)
                  + (series.warnings.isEmpty ? "" : "; warnings: \(series.warnings.map(\.message).joined(separator: "; "))"))
            keys.append(series.key)
            volumes.append(tensor)
        }

        // The same loop as for shards; only the read differs: a `CropBox` of a volume in memory. It takes
        // (x, y, z), the loop speaks (z, y, x) like the stored arrays.
        var loop = TrainingLoop(keys: keys, shapes: volumes.map { [$0.size.z, $0.size.y, $0.size.x] }, sampling: sampling)
        try loop.run { index, start, size in
            CropBox(start: [start[2], start[1], start[0]], size: [size[2], size[1], size[0]])
                .extract(from: volumes[index], fill: sampling.padValue)
        }
    }
}
