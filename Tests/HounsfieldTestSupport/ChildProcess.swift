import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Child processes for the tests that run the real `hounsfield` executable: found, started with their output in
/// files, waited for without blocking the cooperative pool, and killed when they overstay.
public enum ChildProcess {
    /// The `hounsfield` executable that `scripts/test.sh` builds before the tests (`swift build`): `HOUNSFIELD_BINARY`
    /// when set, else the one built beside this test bundle (so `swift test --scratch-path X` runs X's build), else
    /// `.build/debug/hounsfield`.
    public static var executable: String? {
        if let path = ProcessInfo.processInfo.environment["HOUNSFIELD_BINARY"] { return path }
        // Linux: the test bundle is an executable in the build folder; macOS: a `.xctest` bundle in it.
        var folders: [URL] = []
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let main = Bundle.main.executableURL { folders.append(main.resolvingSymlinksInPath().deletingLastPathComponent()) }
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        folders.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug"))
        for folder in folders {
            let candidate = folder.appendingPathComponent("hounsfield").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// What a finished child process left: its exit, and what it wrote.
    public struct Finished: Sendable {
        public var status: Int32
        public var reason: Process.TerminationReason
        public var standardOutput: String
        public var standardError: String
    }

    /// Starts `tool` with its output captured in files (no pipe to fill up while nobody reads), with `environment`
    /// added to this process's.
    public static func start(
        _ tool: String, _ arguments: [String], in folder: URL, environment: [String: String] = [:]
    ) throws -> (Process, URL, URL) {
        let out = folder.appendingPathComponent("stdout-\(UUID().uuidString.prefix(8)).txt")
        let err = folder.appendingPathComponent("stderr-\(UUID().uuidString.prefix(8)).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// Waits for a process started by `start` at most `timeout`; kills it (and fails) when it takes longer.
    /// Polls with `Task.sleep`, never blocking a thread of the cooperative pool, which the parallel suite shares.
    public static func wait(_ started: (Process, URL, URL), timeout: Duration) async throws -> Finished {
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
    public static func run(_ tool: String, _ arguments: [String], logs: URL, timeout: Duration = .seconds(120)) async throws -> Finished {
        try await wait(start(tool, arguments, in: logs), timeout: timeout)
    }

    public struct TimedOut: Error, CustomStringConvertible { public var description: String }

}
