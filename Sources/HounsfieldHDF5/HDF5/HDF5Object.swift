import CHDF5Shim

/// An open HDF5 file, group or dataset, closed when the last reference goes.
///
/// Not `Sendable`: HDF5 handles belong to the code that opened them. The writer and reader keep their handles on
/// one thread of control and move bytes, not handles, to worker threads.
final class HDF5Object {
    let id: hf5_id
    private var isOpen = true
    /// What the handle refers to, for error messages ("shard-00000.h5:/volumes/abc/image").
    let name: String

    init(id: hf5_id, name: String) {
        self.id = id
        self.name = name
    }

    deinit { if isOpen { _ = hf5_close(id) } }

    /// Closes the handle now rather than when the last reference goes: publishing a shard must not depend on when
    /// ARC releases (debug builds keep locals alive to the end of their scope, and HDF5 locks open files).
    func close() throws(ShardError) {
        guard isOpen else { return }
        isOpen = false
        guard hf5_close(id) == 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
    }

    /// Opens an existing file.
    static func openFile(_ path: String, writable: Bool = false) throws(ShardError) -> HDF5Object {
        let id = hf5_file_open(path, writable ? 1 : 0)
        guard id >= 0 else { throw .hdf5(path: path, message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: path)
    }

    /// Creates a file, replacing one of the same name.
    static func createFile(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_file_create(path)
        guard id >= 0 else { throw .hdf5(path: path, message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: path)
    }

    func createGroup(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_group_create(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path))
    }

    func openGroup(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_group_open(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path))
    }

    func openDataset(_ path: String) throws(ShardError) -> HDF5Object {
        let id = hf5_dataset_open(self.id, path)
        guard id >= 0 else { throw .hdf5(path: child(path), message: HDF5Object.lastError) }
        return HDF5Object(id: id, name: child(path))
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

    func flush() throws(ShardError) {
        guard hf5_file_flush(id) == 0 else { throw .hdf5(path: name, message: HDF5Object.lastError) }
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
