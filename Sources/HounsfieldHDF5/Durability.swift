import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file system steps that make a published file survive a crash or power loss: fsync the file, rename it into
/// place, fsync the folder (the rename lives in the folder's entry), and append records with one `write` each.
enum Durability {
    /// Flushes a file's data and metadata to disk.
    static func sync(_ path: String) throws(ShardError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, operation: "open for fsync", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// Flushes a folder's entries (new names, renames) to disk.
    static func syncDirectory(_ path: String) throws(ShardError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw .io(path: path, operation: "open folder for fsync", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync folder", errno: errno) }
    }

    /// Renames atomically (same file system): readers see the old name or the new one, never a half file.
    static func renameAtomically(_ from: String, to: String) throws(ShardError) {
        guard rename(from, to) == 0 else { throw .io(path: from, operation: "rename to \(to)", errno: errno) }
    }

    /// Appends `bytes` with one `write` in append mode and fsyncs, so lines of concurrent appenders never interleave
    /// and a crash leaves either the whole record or none of it (a torn last line is skipped by readers).
    static func append(_ bytes: [UInt8], to path: String) throws(ShardError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "open for append", errno: errno) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .io(path: path, operation: "append", errno: errno) }
            done += n
        }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// Writes a whole small file atomically: a temporary name, fsync, rename.
    static func replace(_ path: String, with bytes: [UInt8]) throws(ShardError) {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, operation: "create", errno: errno) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { close(fd); throw .io(path: temporary, operation: "write", errno: errno) }
            done += n
        }
        guard fsync(fd) == 0 else { close(fd); throw .io(path: temporary, operation: "fsync", errno: errno) }
        close(fd)
        try renameAtomically(temporary, to: path)
    }
}

/// Starts the kernel writing a shard's pages to disk while the shard is still being written, so the fsync at
/// publication waits for the last few megabytes instead of the whole file. Only a hint: failures are ignored.
final class Writeback: Sendable {
    private let path: String
    private let pending = Mutex(0)
    /// Bytes written between two hints.
    static let interval = 32 << 20

    init(path: String) { self.path = path }

    /// Records `bytes` just written; every `interval` bytes, asks the kernel to start writeback (not to wait for it).
    func wrote(_ bytes: Int) {
        let due = pending.withLock { pending -> Bool in
            pending += bytes
            guard pending >= Self.interval else { return false }
            pending = 0
            return true
        }
        guard due else { return }
        #if os(Linux)
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        // POSIX_FADV_DONTNEED starts asynchronous writeback of the file's dirty pages (Linux), like
        // sync_file_range(SYNC_FILE_RANGE_WRITE), which Swift's Glibc module does not export.
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        close(fd)
        #endif
    }
}
