import ArgumentParser
import Foundation
import Hounsfield

/// One study in, tensors out, all in memory: the call an inference service makes per request. The `Preprocessor`
/// runs the same code as `hounsfield run`, so with the same configuration its tensors are byte for byte the ones the
/// batch run stored, and the model sees at inference exactly what it saw in training.
@main
struct PerStudy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "per-study",
        abstract: "Preprocess one study held in memory and print each tensor with its geometry, timing and checksum.",
        discussion: """
            The preprocessing flags mean what they mean for `hounsfield run`. Give the same ones (or the same \
            --config and --salt, or --config with the run's output folder and its --salt) and --compare with that \
            run's output folder to check that both give the same bytes.
            """
    )

    @Argument(help: "The study: DICOM files or folders (read recursively into memory).")
    var study: [String]

    @Option(help: "Configuration file, JSON or YAML, or a `hounsfield run` output folder (its configuration.json, with --salt), as for `hounsfield run --config`.")
    var config: String?

    @Option(help: "HU window to clip to, as LEVEL,WIDTH (e.g. 40,400).")
    var window: String?

    @Option(help: "Target spacing in mm: X or X,Y,Z.")
    var spacing: String?

    @Option(help: "none, minmax (with a window: the window onto [0, 1]) or zscore.")
    var normalize: String?

    @Option(help: "Salt for hashing identifiers: it sets the volume keys, so give the batch run's.")
    var salt: String?

    @Option(help: "A `hounsfield run` output folder of this study: compare keys and checksums with its manifest (exit status 1 when they differ).")
    var compare: String?

    @Option(help: "Calls to make with the same Preprocessor: the first includes warming up, the others are a service's steady state.")
    var calls = 1

    func validate() throws {
        guard calls >= 1 else { throw ValidationError("--calls must be at least 1") }
    }

    func run() async throws {
        // A service does this once, at start-up: the configuration is validated and the transform chain built here,
        // so a bad configuration fails before the first request, not during it.
        let preprocessor = try Preprocessor(configuration: try configurationFromFlags())
        let comparison = try compare.map { try BatchComparison(folder: $0) }
        let processing = preprocessor.processor.configuration
        print("configuration key \(processing.key.prefix(12))…, transform chain:")
        for step in try processing.transformChain() { print("  " + String(decoding: step.canonicalJSON, as: UTF8.self)) }

        // What the request body would hold: the study's files as bytes. The scanner reads nothing from disk.
        let clock = ContinuousClock()
        let reading = clock.now
        let buffers = try StudyFiles.read(study)
        let megabytes = Double(buffers.reduce(0) { $0 + $1.bytes.count }) / 1e6
        print("read \(buffers.count) file(s), \(format("%.1f", megabytes)) MB, into memory in \(format("%.3f", (clock.now - reading).inSeconds)) s")

        var volumes: [ProcessedVolume] = []
        var seconds: [Double] = []
        for _ in 0..<calls {
            let started = clock.now
            volumes = try await preprocessor.process(buffers: buffers)
            seconds.append((clock.now - started).inSeconds)
        }
        print("process(buffers:): \(volumes.count) volume(s), first call \(format("%.3f", seconds[0])) s"
              + (calls > 1 ? ", median of the next \(calls - 1): \(format("%.3f", median(seconds.dropFirst()))) s" : ""))
        guard !volumes.isEmpty else {
            // Not an error for a service: the filters (modality CT by default) may leave nothing to process.
            print("no series passed the filters: nothing to infer on")
            if comparison != nil { throw ExitCode(1) }
            return
        }

        var differences = 0
        for volume in volumes {
            print("")
            describe(volume)
            if let comparison {
                let (same, message) = comparison.check(volume)
                print("  batch run   \(message)")
                if !same { differences += 1 }
            }
        }
        if differences > 0 { throw ExitCode(1) }
    }

    /// What a model server needs from each volume: the tensor, and the geometry to map its output back to the
    /// patient (a segmentation is written back through the affine, or resampled onto the original grid).
    private func describe(_ volume: ProcessedVolume) {
        let size = volume.size
        let geometry = volume.geometry
        // The model's input: float32 whatever the stored dtype (`image` keeps the configured one).
        let tensor = volume.image.float32
        let statistics = VoxelStatistics(of: tensor)
        print("volume \(volume.key)" + (volume.seriesDescription.map { " (\($0))" } ?? ""))
        print("  tensor      \(volume.image.elementType.rawValue) [1, \(size.z), \(size.y), \(size.x)] (c, z, y, x), "
              + format("values %.3f…%.3f, mean %.3f", statistics.minimum, statistics.maximum, statistics.mean))
        print("  spacing     " + format("%.4f, %.4f, %.4f mm (x, y, z)", geometry.spacing.x, geometry.spacing.y, geometry.spacing.z))
        print("  origin      " + format("%.3f, %.3f, %.3f mm (LPS)", geometry.origin.x, geometry.origin.y, geometry.origin.z))
        print("  direction   " + geometry.direction.rowMajor.map { format("%.4f", $0) }.joined(separator: " "))
        print("  affine RAS  " + geometry.affineRAS.map { row in
            "[" + row.map { format("%9.4f", $0 + 0) }.joined(separator: " ") + "]"  // + 0 prints −0 as 0
        }.joined(separator: "\n              "))
        if let original = volume.metadata.originalSize { print("  original    \(original) voxels (x×y×z) before the transforms") }
        // The manifest's `checksum` of this volume once written: `storedChecksum` of the stored voxels.
        print("  checksum    \(volume.image.checksum)")
    }

    /// The configuration file, then the flags: the same precedence as `hounsfield run`.
    private func configurationFromFlags() throws -> RunConfiguration {
        var configuration = try config.map { try ConfigurationFile.load($0) } ?? RunConfiguration()
        try configuration.requireShortcutsApply([("--window", window), ("--spacing", spacing), ("--normalize", normalize)]
            .compactMap { $0.1 == nil ? nil : $0.0 })
        // The library's own parsing of the command-line forms, so the configuration key is the batch run's.
        if let window { try configuration.preprocessing.setWindow(levelAndWidth: window) }
        if let spacing { try configuration.preprocessing.setSpacing(spacing) }
        if let normalize { configuration.preprocessing.normalize = normalize }
        if let salt { configuration.privacy.salt = salt }
        return configuration
    }

    private func median(_ values: some Collection<Double>) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
