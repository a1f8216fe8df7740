import ArgumentParser
import Foundation
import Hounsfield

/// Per-study latency, as an inference service sees it: one `Preprocessor.process(paths:)` call (find the series in
/// the folder, decode, transform; no HDF5) with the configuration the batch run uses. The first call is reported
/// apart (it pays for first-touch page faults and thread start-up); the median is over the calls after it.
struct LatencyJob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency", abstract: "Time the per-study in-memory call on one folder.")

    @Argument var folder: String
    @Option(help: "A `hounsfield run` configuration file (JSON) with the transform chain.") var config: String
    @Option var repeats = 5

    func run() async throws {
        let preprocessor = try Preprocessor(configuration: ConfigurationFile.load(config))
        var times: [Double] = []
        var shape: [Int] = []
        var checksum = ""
        for _ in 0...repeats {
            let start = ContinuousClock.now
            let volumes = try await preprocessor.process(paths: [folder])
            times.append((ContinuousClock.now - start).inSeconds)
            guard let volume = volumes.first else { throw ValidationError("no series selected in \(folder)") }
            shape = [volume.size.z, volume.size.y, volume.size.x]
            checksum = volume.image.checksum
        }
        try printJSON(["first_s": times[0], "times_s": Array(times.dropFirst()), "median_s": median(Array(times.dropFirst())),
                       "shape": shape, "checksum": checksum])
    }
}
