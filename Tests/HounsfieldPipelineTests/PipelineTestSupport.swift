import Foundation
import Hounsfield
import HounsfieldTestSupport

enum PipelineTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func temporaryFolder(_ label: String = #function) -> URL {
        let name = "hounsfield-pipeline-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `count` small CT series, one folder each, different seeds.
    static func series(_ count: Int, in folder: URL, size: Int = 48, slices: Int = 12) throws {
        for index in 0..<count {
            try SyntheticSeries(size: size, slices: slices, spacing: Vector3(0.9, 0.9, 2), seed: UInt64(index + 1))
                .write(to: folder.appendingPathComponent("series-\(index)").path)
        }
    }

    /// A typical configuration: clip to [-1000, 1000], 1.5 mm linear, window onto [0, 1], float32.
    static func configuration(inputs: [URL], output: URL?) -> RunConfiguration {
        var configuration = RunConfiguration(inputs: inputs.map(\.path))
        configuration.output.folder = output?.path
        configuration.preprocessing.window = [-1000, 1000]
        configuration.preprocessing.spacing = [1.5]
        configuration.preprocessing.normalize = "minmax"
        configuration.privacy.salt = "test-salt"
        return configuration
    }

    /// Runs a tool to its end and returns its exit status; waits on a Dispatch thread (see `offThePool`).
    @discardableResult
    static func shell(_ tool: String, _ arguments: [String]) async throws -> Int32 {
        try await offThePool { try shellBlocking(tool, arguments) }
    }

    private static func shellBlocking(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// key → checksum of every manifest line in a folder.
    static func contents(of folder: URL) -> [String: String] {
        Dictionary(OutputFolder(folder).manifestEntries().entries.map { ($0.key, $0.checksum) }, uniquingKeysWith: { a, _ in a })
    }
}
