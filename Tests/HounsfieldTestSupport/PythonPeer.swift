import Foundation
import Synchronization

/// The Python interpreter with SimpleITK and numpy that `scripts/test.sh` prepares (`HOUNSFIELD_PYTHON`).
/// In CI the peer is required: tests that need it fail instead of being skipped.
public enum PythonPeer {
    public static var python: String? {
        guard let path = ProcessInfo.processInfo.environment["HOUNSFIELD_PYTHON"],
            FileManager.default.isExecutableFile(atPath: path)
        else { return nil }
        return path
    }

    /// Whether peer tests should run: the interpreter is there, or this is CI (where its absence is a failure).
    public static var shouldRun: Bool { python != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    public static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("peers")

    /// Runs `script` (in Tests/peers) with a JSON specification file; throws with its stderr on failure. The wait
    /// happens on a Dispatch thread: the suite runs in parallel on Swift's cooperative pool (two threads on two
    /// cores), and a test that blocked one of them for a Python run would stall every other test's tasks.
    public static func run(_ script: String, specification: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: specification)
        try await offThePool { try runBlocking(script, specification: data) }
    }

    private static func runBlocking(_ script: String, specification: Data) throws {
        guard let python else { throw PeerFailure(description: "HOUNSFIELD_PYTHON is not set: run scripts/test.sh, which prepares it") }
        let specFile = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString).json")
        try specification.write(to: specFile)
        defer { try? FileManager.default.removeItem(at: specFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scripts.appendingPathComponent(script).path, specFile.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PeerFailure(description: "\(script) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

extension PythonPeer {
    /// Runs `script` (in Tests/peers) with plain arguments and returns its standard output; throws with its
    /// standard error when it exits with a non-zero status. Waits on a Dispatch thread, as ``run(_:specification:)``.
    public static func output(_ script: String, arguments: [String]) async throws -> Data {
        try await offThePool { try outputBlocking(script, arguments: arguments) }
    }

    private static func outputBlocking(_ script: String, arguments: [String]) throws -> Data {
        guard let python else { throw PeerFailure(description: "HOUNSFIELD_PYTHON is not set: run scripts/test.sh, which prepares it") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scripts.appendingPathComponent(script).path] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes to the end before waiting, so a chatty script never blocks on a full pipe.
        let errorData = Collected()
        let reader = DispatchGroup()
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async(group: reader) {
            let data = errorHandle.readDataToEndOfFile()
            errorData.data.withLock { $0 = data }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        reader.wait()
        guard process.terminationStatus == 0 else {
            throw PeerFailure(description: "\(script) failed: \(String(decoding: errorData.data.withLock { $0 }, as: UTF8.self))")
        }
        return data
    }

    /// What the standard-error reader collected.
    private final class Collected: Sendable {
        let data = Mutex(Data())
    }
}

public struct PeerFailure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Raw little-endian Float32 files for exchanging volumes with the Python peers.
public enum RawFloats {
    public static func write(_ values: [Float32], to url: URL) throws {
        try values.withUnsafeBytes { try Data($0).write(to: url) }
    }

    public static func read(_ url: URL, count: Int) throws -> [Float32] {
        let data = try Data(contentsOf: url)
        precondition(data.count == count * 4, "\(url.lastPathComponent) holds \(data.count) bytes, expected \(count * 4)")
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float32.self)) }
    }
}

/// Runs blocking work (waiting for a child process) on a Dispatch thread, so no thread of Swift's cooperative pool
/// is held while it waits.
public func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
