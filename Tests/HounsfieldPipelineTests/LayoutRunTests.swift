import Foundation
import Hounsfield
import HounsfieldTestSupport
import Testing

/// `hounsfield run --layout`: the presets reach the shards, the flags beside them override their part, and every
/// layout stores the same voxels.
@Suite("hounsfield run --layout", .enabled(if: ChildProcess.executable != nil, "needs the hounsfield executable (scripts/test.sh builds it)"))
struct LayoutRunTests {
    @Test("--layout training writes 32³ Blosc chunks, archive slabs + gzip; same checksums; --compression overrides")
    func layouts() async throws {
        let binary = try #require(ChildProcess.executable)
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(1, in: inputs, size: 80, slices: 40)
        var results: [String: (entry: ManifestEntry, volume: StoredVolume, configuration: [String: Any])] = [:]
        for (name, flags) in [("training", ["--layout", "training"]), ("archive", ["--layout", "archive"]),
                              ("default", []), ("lz4hc", ["--layout", "training", "--compression", "blosc:lz4hc:9"])] {
            let output = root.appendingPathComponent(name)
            let finished = try await ChildProcess.run(
                binary, ["run", inputs.path, "--output", output.path, "--salt", "layout-test", "--spacing", "1.5"] + flags,
                logs: root, timeout: .seconds(180))
            #expect(finished.status == 0, "\(name): \(finished.standardError)")
            let folder = OutputFolder(output)
            let entry = try #require(folder.manifestEntries().entries.first)
            let volume = try folder.reader(for: entry.key).volume(entry.key)
            let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("configuration.json")))
            let configuration = ((recorded as? [String: Any])?["configuration"] as? [String: Any])?["output"] as? [String: Any] ?? [:]
            results[name] = (entry, volume, configuration)
        }
        let training = try #require(results["training"]), archive = try #require(results["archive"])
        let plain = try #require(results["default"]), lz4hc = try #require(results["lz4hc"])
        #expect(training.volume.layout == "training" && training.volume.filters == [32001])
        #expect(training.volume.chunkShape == [32, 32, 32].enumerated().map { min($0.element, training.entry.shape[$0.offset]) })
        #expect(training.configuration["chunks"] as? String == "cubes:32")
        #expect(training.configuration["compression"] as? String == "blosc:lz4:9")
        #expect(archive.volume.layout == "archive" && archive.volume.filters == [2, 1])
        #expect(plain.volume.layout == "archive")
        #expect(lz4hc.volume.layout == "custom" && lz4hc.configuration["compression"] as? String == "blosc:lz4hc:9")
        #expect(Set([training, archive, plain, lz4hc].map(\.entry.checksum)).count == 1)
    }
}
