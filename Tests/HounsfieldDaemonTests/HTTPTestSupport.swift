import Crypto
import Foundation
import Hounsfield
@testable import HounsfieldDaemon
import HounsfieldHDF5
import HounsfieldTestSupport
import Logging
import Prometheus
import Synchronization

/// What the HTTP tests share: small synthetic studies, a service started in-process on a free loopback port, and
/// the real clients (curl, Python) run as child processes. Every wait is bounded.
enum HTTPTestSupport {
    static func temporaryFolder(_ label: String = #function) -> URL {
        let name = "hounsfield-http-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small CT series (64×64×20 by default) written as DICOM files into `folder`; returns the files.
    @discardableResult
    static func study(in folder: URL, size: Int = 64, slices: Int = 20, seed: UInt64 = 3) throws -> [URL] {
        try SyntheticSeries(size: size, slices: slices, spacing: Vector3(0.9, 0.9, 2), seed: seed)
            .write(to: folder.path).sorted().map { URL(fileURLWithPath: $0) }
    }

    /// Clip, 1.5 mm linear, window onto [0, 1]; float32 unless another dtype is given.
    static func configuration(dtype: ShardElementType = .float32, scale: Double = 1) -> RunConfiguration {
        var configuration = RunConfiguration()
        configuration.preprocessing.window = [-1000, 1000]
        configuration.preprocessing.spacing = [1.5]
        configuration.preprocessing.normalize = "minmax"
        configuration.output.dtype = dtype
        configuration.output.scale = scale
        configuration.privacy.salt = "test-salt"
        return configuration
    }

    /// key → the bytes `hounsfield run` stores for `folder` under `configuration` (a batch run into a temporary
    /// folder, read back through the shard reader).
    static func shardBytes(of folder: URL, configuration: RunConfiguration, scratch: URL) async throws -> [String: Data] {
        var configuration = configuration
        let output = scratch.appendingPathComponent("out-\(UUID().uuidString.prefix(6))")
        configuration.inputs = [folder.path]
        configuration.output.folder = output.path
        _ = try await BatchRun(configuration: configuration).run()
        let out = OutputFolder(output)
        var result: [String: Data] = [:]
        for entry in out.manifestEntries().entries {
            let reader = try out.reader(for: entry.key)
            switch configuration.output.dtype {
            case .float32: result[entry.key] = try reader.readImage(entry.key, as: Float32.self).voxels.withUnsafeBytes { Data($0) }
            case .uint8: result[entry.key] = try reader.readImage(entry.key, as: UInt8.self).voxels.withUnsafeBytes { Data($0) }
            case .int16: result[entry.key] = try reader.readImage(entry.key, as: Int16.self).voxels.withUnsafeBytes { Data($0) }
            case .float16: result[entry.key] = try reader.readImage(entry.key, as: Float16.self).voxels.withUnsafeBytes { Data($0) }
            case .uint16: result[entry.key] = try reader.readImage(entry.key, as: UInt16.self).voxels.withUnsafeBytes { Data($0) }
            }
        }
        return result
    }

    /// A DICOMweb STOW-RS body of `files`, one part each.
    static func multipart(_ files: [URL], boundary: String) throws -> Data {
        var body = Data("preamble, ignored\r\n".utf8)
        for file in files {
            body += Data("--\(boundary)\r\nContent-Type: application/dicom\r\nContent-Location: \(file.lastPathComponent)\r\n\r\n".utf8)
            body += try Data(contentsOf: file)
            body += Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return body
    }

    // MARK: - The service

    /// A service started on 127.0.0.1, port 0, marked ready; `body` gets it and its base URL; it is stopped
    /// (cancelled and awaited) afterwards.
    static func withService<T>(
        _ options: HTTPOptions = HTTPOptions(), configuration: RunConfiguration = configuration(),
        readiness: Readiness? = nil, registry: PrometheusCollectorRegistry? = nil,
        beforeProcessing: (@Sendable () async throws -> Void)? = nil,
        _ body: (HTTPService, String) async throws -> T
    ) async throws -> T {
        let ready = readiness ?? { let r = Readiness(); r.markReady(); return r }()
        let service = try HTTPService(options: options, preprocessor: try Preprocessor(configuration: configuration),
                                      readiness: ready, metrics: registry, logger: Logger(label: "test.http"),
                                      beforeProcessing: beforeProcessing)
        let task = Task { try await service.run() }
        defer { task.cancel() }
        guard let port = await service.waitForPort() else {
            _ = try await task.value
            throw PeerFailure(description: "the HTTP service ended without binding a port")
        }
        let scheme = options.tls == nil ? "http" : "https"
        let result = try await body(service, "\(scheme)://127.0.0.1:\(port)")
        task.cancel()
        _ = try? await task.value
        return result
    }

    // MARK: - curl

    /// What curl got back.
    struct Answer {
        var status: Int
        /// The final response's headers, names lowercased.
        var headers: [String: String]
        var body: Data
        /// curl's total time, in seconds.
        var seconds: Double? = nil

        /// The JSON error body.
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    /// Runs curl with `arguments` (plus output capture); within two minutes.
    static func curl(_ arguments: [String], in folder: URL) async throws -> Answer {
        try await finish(startCurl(arguments, in: folder))
    }

    /// Starts curl in the background; ``finish(_:)`` waits for it.
    static func startCurl(_ arguments: [String], in folder: URL) throws -> (process: (Process, URL, URL), body: URL, head: URL) {
        let id = UUID().uuidString.prefix(8)
        let body = folder.appendingPathComponent("curl-body-\(id)"), head = folder.appendingPathComponent("curl-head-\(id)")
        let process = try ChildProcess.start("/usr/bin/curl",
                                             ["-sS", "--max-time", "120", "-o", body.path, "-D", head.path, "-w", "%{http_code} %{time_total}"] + arguments,
                                             in: folder)
        return (process, body, head)
    }

    /// Waits for a curl started by ``startCurl(_:in:)``.
    static func finish(_ started: (process: (Process, URL, URL), body: URL, head: URL)) async throws -> Answer {
        let finished = try await ChildProcess.wait(started.process, timeout: .seconds(150))
        let written = finished.standardOutput.split(separator: " ")
        guard let status = written.first.flatMap({ Int($0) }), status > 0 else {
            throw PeerFailure(description: "curl failed (\(finished.status)): \(finished.standardError)")
        }
        let rawHead = (try? String(contentsOf: started.head, encoding: .utf8)) ?? ""
        // The last block: a 100 Continue comes first when curl asked for one.
        let block = rawHead.components(separatedBy: "\r\n\r\n").last { !$0.isEmpty } ?? ""
        var headers: [String: String] = [:]
        for line in block.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: status, headers: headers, body: (try? Data(contentsOf: started.body)) ?? Data(),
                      seconds: written.dropFirst().first.flatMap { Double($0) })
    }

    // MARK: - Waiting

    /// Polls `condition` every 20 ms for at most `limit`; false when it never held.
    static func eventually(within limit: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// A gate a test opens: the processing hook waits on it (polling, so it needs no task of the test to run promptly,
/// and it stops at cancellation), at most five minutes.
final class Latch: Sendable {
    private let open = Mutex(false)
    private let waiters = Mutex(0)

    /// Lets every waiter go.
    func release() { open.withLock { $0 = true } }

    /// Hooks waiting now.
    var waiting: Int { waiters.withLock { $0 } }

    /// Waits until released.
    func wait() async throws {
        waiters.withLock { $0 += 1 }
        defer { waiters.withLock { $0 -= 1 } }
        let deadline = ContinuousClock.now + .seconds(300)
        while !open.withLock({ $0 }) {
            guard ContinuousClock.now < deadline else { throw PeerFailure(description: "latch never released") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A safetensors file read back: each tensor's dtype, shape and bytes, and the metadata.
struct Safetensors {
    struct Tensor {
        var dtype: String
        var shape: [Int]
        var bytes: Data
    }

    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]
    var headerLength: Int

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw PeerFailure(description: "safetensors shorter than 8 bytes") }
        headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + headerLength])) as? [String: Any] ?? [:]
        let start = 8 + headerLength
        for (name, value) in header {
            if name == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let entry = value as? [String: Any], let offsets = entry["data_offsets"] as? [Int] else { continue }
            tensors[name] = Tensor(dtype: entry["dtype"] as? String ?? "", shape: entry["shape"] as? [Int] ?? [],
                                   bytes: Data(bytes[start + offsets[0]..<start + offsets[1]]))
        }
    }
}
