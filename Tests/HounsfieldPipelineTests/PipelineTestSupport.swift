import Foundation
import Hounsfield
import HounsfieldTestSupport

enum PipelineTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `hounsfield` executable that `scripts/test.sh` builds before the tests (`swift build`): `HOUNSFIELD_BINARY`
    /// when set, else the one built beside this test bundle (so `swift test --scratch-path X` runs X's build), else
    /// `.build/debug/hounsfield`.
    static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["HOUNSFIELD_BINARY"] { return path }
        // Linux: the test bundle is an executable in the build folder; macOS: a `.xctest` bundle in it.
        var folders: [URL] = []
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let main = Bundle.main.executableURL { folders.append(main.resolvingSymlinksInPath().deletingLastPathComponent()) }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        folders.append(packageRoot.appendingPathComponent(".build/debug"))
        for folder in folders {
            let candidate = folder.appendingPathComponent("hounsfield").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

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

    /// What a finished child process left: its exit, and what it wrote.
    struct Finished {
        var status: Int32
        var reason: Process.TerminationReason
        var standardOutput: String
        var standardError: String
    }

    /// Starts `tool` with its output captured in files (no pipe to fill up while nobody reads).
    static func start(_ tool: String, _ arguments: [String], in folder: URL) throws -> (Process, URL, URL) {
        let out = folder.appendingPathComponent("stdout-\(UUID().uuidString.prefix(8)).txt")
        let err = folder.appendingPathComponent("stderr-\(UUID().uuidString.prefix(8)).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// Waits for a process started by `start` at most `timeout`; kills it (and fails) when it takes longer.
    /// Polls with `Task.sleep`, never blocking a thread of the cooperative pool, which the parallel suite shares.
    static func wait(_ started: (Process, URL, URL), timeout: Duration) async throws -> Finished {
        let (process, out, err) = started
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TimedOut(description: "\(process.executableURL?.path ?? "") \(process.arguments ?? []) did not end within \(timeout)")
        }
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, reason: process.terminationReason,
                        standardOutput: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                        standardError: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs `tool` to its end, within `timeout`.
    static func run(_ tool: String, _ arguments: [String], logs: URL, timeout: Duration = .seconds(120)) async throws -> Finished {
        try await wait(start(tool, arguments, in: logs), timeout: timeout)
    }

    struct TimedOut: Error, CustomStringConvertible { var description: String }

    /// key → checksum of every manifest line in a folder.
    static func contents(of folder: URL) -> [String: String] {
        Dictionary(OutputFolder(folder).manifestEntries().entries.map { ($0.key, $0.checksum) }, uniquingKeysWith: { a, _ in a })
    }
}
