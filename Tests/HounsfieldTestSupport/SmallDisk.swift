import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small tmpfs mounted for one test: a disk that fills up. Mounting needs root (tests in CI run as root); tests
/// that use it are enabled only when `unavailableReason` is nil, and say why they are skipped otherwise.
public final class SmallDisk: @unchecked Sendable {
    /// The mount point (a new temporary folder).
    public let url: URL
    private var mounted = true

    /// Why a tmpfs cannot be mounted here, or nil when it can (Linux, as root).
    public static var unavailableReason: String? {
        #if os(Linux)
        return getuid() == 0 ? nil : "mounting a small tmpfs needs root (run the tests as root, as CI does)"
        #else
        return "a small tmpfs is mounted only on Linux"
        #endif
    }

    /// Mounts a tmpfs of `megabytes` MB (rounded to KiB) on a new temporary folder.
    public init(megabytes: Double, label: String = #function) throws {
        let name = "hounsfield-disk-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        do {
            try Self.mount(["-t", "tmpfs", "-o", "size=\(Int(megabytes * 1024))k", "tmpfs", url.path])
        } catch {
            mounted = false
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    /// Changes the size, keeping the contents (`mount -o remount,size=…`): "space was freed".
    public func resize(megabytes: Double) throws {
        try Self.mount(["-o", "remount,size=\(Int(megabytes * 1024))k", url.path])
    }

    /// Bytes still free.
    public var freeBytes: Int {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { return 0 }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Unmounts (lazily if something still holds a file open) and removes the mount point. Safe to call twice.
    public func unmount() {
        guard mounted else { return }
        mounted = false
        if (try? Self.run("/bin/umount", [url.path])) == nil { _ = try? Self.run("/bin/umount", ["-l", url.path]) }
        try? FileManager.default.removeItem(at: url)
    }

    deinit { unmount() }

    /// Fills the disk with a file of this test's own (never output data) until the file system refuses more;
    /// removing it frees the space again.
    @discardableResult
    public func fill(_ name: String = "filler", leaving free: Int = 0) -> URL {
        let filler = url.appendingPathComponent(name)
        let fd = open(filler.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return filler }
        defer { close(fd) }
        let block = [UInt8](repeating: 0x5a, count: 64 << 10)
        var size = block.count
        while size > 0 {
            let n = block.withUnsafeBytes { write(fd, $0.baseAddress!, size) }
            if n <= 0 { size /= 2 }   // the last free pages, down to single bytes
        }
        if free > 0, let end = try? FileManager.default.attributesOfItem(atPath: filler.path)[.size] as? Int {
            _ = ftruncate(fd, off_t(max(0, end - free)))
        }
        return filler
    }

    private static func mount(_ arguments: [String]) throws {
        try run(FileManager.default.isExecutableFile(atPath: "/bin/mount") ? "/bin/mount" : "/usr/bin/mount", arguments)
    }

    /// Runs a tool and waits at most 30 s; throws with its standard error when it fails.
    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            throw SmallDiskError(description: "\(tool) \(arguments.joined(separator: " ")) did not finish in 30 s")
        }
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw SmallDiskError(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }
}

/// A mount or unmount that failed.
public struct SmallDiskError: Error, CustomStringConvertible {
    public var description: String
}
