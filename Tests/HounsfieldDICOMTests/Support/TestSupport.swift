import Crypto
import Foundation
import Hounsfield

/// Paths and helpers shared by the DICOM tests.
enum TestSupport {
    /// `../shared/testdata` beside the package root, where CI places the real CT cases.
    static let testdata: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/testdata")

    static func testdata(_ path: String) -> String { testdata.appendingPathComponent(path).path }

    /// A fresh temporary folder, removed by the caller's `defer`.
    static func temporaryFolder(_ label: String = #function) -> String {
        let name = "hounsfield-test-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// SHA-256 of the voxels as little-endian Float32 in C order: the hash in every reference.json.
    static func sha256(_ volume: Volume<Float32>) -> String {
        volume.voxels.withUnsafeBytes { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() }
    }

    /// The reference.json of a case folder.
    static func reference(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: testdata.appendingPathComponent(folder).appendingPathComponent("reference.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Writes a small synthetic series and returns its folder.
    static func synthetic(
        _ series: SyntheticSeries, in parent: String, name: String = "series"
    ) throws -> String {
        let folder = parent + "/" + name
        try series.write(to: folder)
        return folder
    }

    /// Runs a command-line tool found on PATH (DCMTK's, for instance) and throws its standard error when it fails.
    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Read before waiting: a tool that fills the pipe would otherwise never exit.
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PeerToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }

    static func small(_ syntax: SyntheticTransferSyntax = .explicit, slices: Int = 8, size: Int = 48) -> SyntheticSeries {
        SyntheticSeries(size: size, slices: slices, spacing: Vector3(0.8, 0.8, 2.5), syntax: syntax)
    }
}

func close(_ a: [Double], _ b: [Double], tolerance: Double = 1e-3) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// A command-line tool that failed, with what it wrote to standard error.
struct PeerToolFailure: Error, CustomStringConvertible {
    let description: String
}
