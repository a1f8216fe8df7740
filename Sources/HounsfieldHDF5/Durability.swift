import Dispatch
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

/// Flushes a shard's data to disk in the background while the shard is still being written, so the fsync at
/// publication finds little left to do.
///
/// Why: on the virtual disks of cloud machines (and this project's CI), `fsync` costs about 1 ms per MB written
/// since the last flush, however long ago the bytes were written; hints that only start writeback
/// (`POSIX_FADV_DONTNEED`, `sync_file_range`) did not shorten it (measured: 96 MB, 95–120 ms either way). A
/// background `fdatasync` every `interval` bytes overlaps that cost with compression: the final fsync of a 96 MB
/// shard went from about 120 ms to 4 ms. The final fsync still happens; this changes when the work is done, not
/// what is guaranteed.
final class Writeback: Sendable {
    private let path: String
    private let state = Mutex(State())
    private let running = DispatchGroup()
    /// Bytes written between two background flushes.
    static let interval = 16 << 20

    private struct State {
        var pending = 0
        var flushing = false
    }

    init(path: String) { self.path = path }

    /// Records `bytes` just written; every `interval` bytes, starts a flush unless one is still running (the next
    /// one then covers both).
    func wrote(_ bytes: Int) {
        let due = state.withLock { state -> Bool in
            state.pending += bytes
            guard state.pending >= Self.interval, !state.flushing else { return false }
            state.pending = 0
            state.flushing = true
            return true
        }
        guard due else { return }
        DispatchQueue.global(qos: .utility).async(group: running) { [self] in
            let fd = open(path, O_RDONLY)
            if fd >= 0 {
                _ = fdatasync(fd)   // only a head start: errors surface in the final fsync
                close(fd)
            }
            state.withLock { $0.flushing = false }
        }
    }

    /// Waits for a running flush, before the file is closed, synced and renamed.
    func finish() { running.wait() }
}
