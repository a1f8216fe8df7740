import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file system steps that make a published file survive a crash or power loss: fsync the file, rename it into
/// place, fsync the folder (the rename lives in the folder's entry), and append records with one `write` each.
package enum Durability {
    /// Flushes a file's data and metadata to disk.
    package static func sync(_ path: String) throws(ShardError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, operation: "open for fsync", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }

    /// Flushes a folder's entries (new names, renames) to disk.
    package static func syncDirectory(_ path: String) throws(ShardError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw .io(path: path, operation: "open folder for fsync", errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(path: path, operation: "fsync folder", errno: errno) }
    }

    /// Renames atomically (same file system): readers see the old name or the new one, never a half file.
    package static func renameAtomically(_ from: String, to: String) throws(ShardError) {
        guard rename(from, to) == 0 else { throw .io(path: from, operation: "rename to \(to)", errno: errno) }
    }

    /// Appends `bytes` with one `write` in append mode and fsyncs, so lines of concurrent appenders never interleave
    /// and a crash leaves either the whole record or none of it (a torn last line is skipped by readers).
    /// A failed append (a full disk) is cut off again, so the file never keeps half a record; and a file whose last
    /// line was torn by an earlier crash gets its line ended first, so the new record stays readable.
    package static func append(_ bytes: [UInt8], to path: String) throws(ShardError) {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "open for append", errno: errno) }
        defer { close(fd) }
        var record = bytes
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { throw .io(path: path, operation: "append", errno: errno) }
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") { record.insert(UInt8(ascii: "\n"), at: 0) }
        }
        var done = 0
        while done < record.count {
            let n = record.withUnsafeBytes { write(fd, $0.baseAddress! + done, record.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                _ = ftruncate(fd, size)   // one writer per manifest file: nobody else appended meanwhile
                throw .io(path: path, operation: "append", errno: code)
            }
            done += n
        }
        guard fsync(fd) == 0 else {
            let code = errno
            _ = ftruncate(fd, size)
            throw .io(path: path, operation: "fsync", errno: code)
        }
    }

    /// Writes a whole small file atomically: a temporary name, fsync, rename.
    package static func replace(_ path: String, with bytes: [UInt8]) throws(ShardError) {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(path: temporary, operation: "create", errno: errno) }
        /// A failure removes the temporary file (ours, never published), so a full disk keeps no debris of it.
        func failed(_ operation: String) -> ShardError {
            let code = errno
            close(fd)
            unlink(temporary)
            return .io(path: path, operation: operation, errno: code)
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failed("write") }
            done += n
        }
        guard fsync(fd) == 0 else { throw failed("fsync") }
        close(fd)
        do { try renameAtomically(temporary, to: path) } catch {
            unlink(temporary)
            throw error
        }
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
