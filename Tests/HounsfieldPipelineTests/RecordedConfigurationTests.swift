import Foundation
import Hounsfield
import HounsfieldHDF5
import Testing

@Suite("An output folder's configuration.json repeats its preprocessing")
struct RecordedConfigurationTests {
    @Test("a service started from a run's folder gets the run's key and bytes; only the run's salt is accepted")
    func recordedConfigurationRepeatsTheRun() async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(1, in: inputs)
        let output = root.appendingPathComponent("out")
        var original = PipelineTestSupport.configuration(inputs: [inputs], output: output)
        original.output.compression = .zstd(level: 3)
        original.filters.sliceThickness = [0.5, 5]
        _ = try await BatchRun(configuration: original).run()

        var recorded = try ConfigurationFile.load(output.path)
        #expect(recorded.transforms == (try original.transformChain()))
        #expect(recorded.output.compression == .zstd(level: 3) && recorded.filters == original.filters)
        #expect(recorded.inputs.isEmpty && recorded.output.folder == nil && recorded.privacy.salt.isEmpty)
        #expect(throws: ConfigurationError.self) { try recorded.validate() }
        recorded.privacy.salt = "another salt"
        #expect(throws: ConfigurationError.self) { try Preprocessor(configuration: recorded) }
        recorded.privacy.salt = "test-salt"
        try recorded.validate()
        #expect(recorded.key == original.key)

        let entries = OutputFolder(output).manifestEntries().entries
        let volumes = try await Preprocessor(configuration: recorded).process(paths: [inputs.path])
        #expect(volumes.count == 1 && entries.count == 1)
        for volume in volumes {
            let entry = try #require(entries.first { $0.key == volume.key })
            #expect(entry.checksum == volume.image.checksum)
        }
    }

    /// Ways a recorded file can stop describing the run that wrote it.
    enum Damage: String, CaseIterable, Sendable {
        case sectionMissing, chainEdited, unknownKey

        var expectedWords: String {
            switch self {
            case .sectionMissing: "older hounsfield"
            case .chainEdited: "does not reproduce its configuration_key"
            case .unknownKey: "configuration.output.colour"
            }
        }
    }

    @Test("an edited or older configuration.json is refused, saying why", arguments: Damage.allCases)
    func damagedRecordIsRefused(_ damage: Damage) async throws {
        let root = PipelineTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("in")
        try PipelineTestSupport.series(1, in: inputs, slices: 6)
        let output = root.appendingPathComponent("out")
        _ = try await BatchRun(configuration: PipelineTestSupport.configuration(inputs: [inputs], output: output)).run()
        let file = output.appendingPathComponent("configuration.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var section = try #require(object["configuration"] as? [String: Any])
        switch damage {
        case .sectionMissing:
            section = [:]
            object["configuration"] = nil
        case .chainEdited:
            var steps = try #require(section["transforms"] as? [[String: Any]])
            steps[0]["minimum"] = -900
            section["transforms"] = steps
        case .unknownKey:
            var out = try #require(section["output"] as? [String: Any])
            out["colour"] = "blue"
            section["output"] = out
        }
        if !section.isEmpty { object["configuration"] = section }
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        do {
            _ = try ConfigurationFile.load(file.path)
            Issue.record("\(damage) was accepted")
        } catch {
            #expect(error.description.contains(damage.expectedWords), "\(error)")
        }
    }
}
