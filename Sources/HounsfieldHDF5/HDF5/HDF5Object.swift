import CHDF5Shim
import Synchronization

/// An open HDF5 file, group or dataset, closed when the last reference goes.
///
/// Not `Sendable`: HDF5 handles belong to the code that opened them. The writer and reader keep their handles on
/// one thread of control and move bytes, not handles, to worker threads.
///
/// A handle is used until it is closed or its file is, and never after: `close()` is idempotent, and after any
/// close, failed or not, nothing calls HDF5 with the id again, `deinit` included. A file created for writing closes
/// every object opened in it (HDF5's strong close degree), so those objects share the file's `FileState` and count as
/// closed with it. This matters after a failure: HDF5 1.10 may keep a file's id registered after a failed close
/// although the file's memory is freed, and any later call with that id would crash (decision 41).
final class HDF5Object {
    private let handle: hf5_id
    /// The HDF5 id while the handle is usable, and -1 (no id: every HDF5 call fails cleanly) once it or its file is
    /// closed, so a stale handle can never reach a freed object.
    var id: hf5_id { isUsable ? handle : -1 }
    /// What the handle refers to, for error messages ("shard-00000.h5:/volumes/abc/image").
    let name: String
    private let role: Role
    private var isOpen = true

    /// Whether a file created for writing is still open; shared by the file and every object opened in it.
    final class FileState {
        fileprivate(set) var isOpen = true
    }

    private enum Role {
        /// A file opened for reading (HDF5's default close degree: it stays open until its objects are closed).
        case openedFile
        /// A file created for writing, which closes its objects with it.
        case createdFile(FileState)
        /// A group or dataset; `file` is set when its file closes it.
        case object(file: FileState?)
    }

    private init(id: hf5_id, name: String, role: Role) {
        self.handle = id
        self.name = name
        self.role = role
    }

    /// A dataset or group opened in `parent` (the writer creates datasets through the shim directly).
    convenience init(id: hf5_id, name: String, in parent: HDF5Object) {
        self.init(id: id, name: name, role: .object(file: parent.fileState))
    }

    /// Files created for writing that HDF5 could not release when they were closed or discarded (their ids may
    /// stay registered): never expected, counted so that tests can say so.
    static let unreleasedFiles = Atomic<Int>(0)

    deinit {
        guard isUsable else { return }
        if case .createdFile(let state) = role {
            // Never closed through `close()`, so never published: discarded without writing to its disk again,
            // so that a full disk cannot turn into a failed close here.
            state.isOpen = false
            if hf5_file_discard(handle) != 0 { Self.unreleasedFiles.add(1, ordering: .relaxed) }
        } else {
            _ = hf5_close(handle)
        }
    }

    /// The state shared with the objects opened in this file (or in this object's file), when it closes them.
    private var fileState: FileState? {
        switch role {
        case .openedFile: nil
        case .createdFile(let state): state
        case .object(let file): file
        }
    }

    /// Whether the handle may still be used: neither it nor the file that closes it has been closed.
    var isUsable: Bool { isOpen && (fileState?.isOpen ?? true) }

    /// Closes the handle now rather than when the last reference goes: publishing a shard must not depend on when
    /// ARC releases (debug builds keep locals alive to the end of their scope, and HDF5 locks open files). A file
    /// created for writing is flushed, then closed; when the flush fails it is discarded (`hf5_file_close`). Either
    /// way the handle is released: a second `close()`, or closing an object whose file is closed, does nothing.
    func close() throws(ShardError) {
        guard isUsable else { return }
        isOpen = false
        if case .createdFile(let state) = role {
            state.isOpen = false
            let status = hf5_file_close(handle)
            if status == -2 { Self.unreleasedFiles.add(1, ordering: .relaxed) }
            guard status == 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
        } else {
            guard hf5_close(handle) == 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
        }
    }

    /// Closes a file created for writing without writing to its disk again (`hf5_file_discard`), for a shard that
    /// will not be published: the bytes on disk stay as they were, and the close succeeds on a full disk or in a
    /// removed folder. Does nothing once the file is closed; other objects close with their file.
    func discard() {
        guard isUsable, case .createdFile(let state) = role else { return }
        isOpen = false
        state.isOpen = false
        if hf5_file_discard(handle) != 0 { Self.unreleasedFiles.add(1, ordering: .relaxed) }
    }

    /// Opens an existing file.
    static func openFile(_ path: String, writable: Bool = false) throws(ShardError) -> HDF5Object {
        let id = hf5_file_open(path, writable ? 1 : 0)
        guard id >= 0 else { throw .hdf5(path: path, message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: path, role: .openedFile)
    }

    /// Creates a file for writing, replacing one of the same name.
    static func createFile(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_file_create(path)
        guard id >= 0 else { throw .hdf5(path: path, message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: path, role: .createdFile(FileState()))
    }

    func createGroup(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_group_create(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path), in: self)
    }

    func openGroup(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_group_open(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path), in: self)
    }

    func openDataset(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_dataset_open(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path), in: self)
    }

    func contains(_ path: String) -> Bool { hf5_exists(id, path) == 1 }

    /// Names of the links in this group, in name order.
    func childNames() throws(ShardError) -> [String] {
        let count = hf5_group_count(id)
        guard count >= 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
        var names: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        for index in 0..<UInt64(count) {
            var length = hf5_group_name(id, index, &buffer, buffer.count)
            if length >= buffer.count {
                buffer = [CChar](repeating: 0, count: Int(length) + 1)
                length = hf5_group_name(id, index, &buffer, buffer.count)
            }
            guard length >= 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    func child(_ path: String) -> String { name.hasSuffix("/") || name.hasSuffix(".h5") || name.hasSuffix(".partial") ? "\(name):/\(path)" : "\(name)/\(path)" }

    static var lastError: String { String(cString: hf5_last_error()) }

    /// HDF5's version, e.g. "1.10.8".
    static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: 32)
        hf5_library_version(&buffer, buffer.count)
        return string(from: buffer)
    }

    /// The text of a zero-terminated C buffer.
    static func string(from buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
