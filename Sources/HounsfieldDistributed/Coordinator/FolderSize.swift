#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of the regular files under a study folder, summed with `readdir` and `fstatat`.
///
/// Why not `FileManager`'s enumerator: on Linux it builds a URL and a resource-value dictionary per file, about
/// 27 µs a file on this machine, so sizing 100k studies of 300 files (30 million files) took a quarter of an hour
/// before the first lease; the directory entry's type saves the `stat` of every folder, and a file costs one
/// `fstatat` relative to its open folder. Hidden entries (`.name`) are skipped, as the enumerator's
/// `skipsHiddenFiles` did; a symbolic link to a file counts the file, a link to a folder is not entered (no loops).
enum FolderSize {
    /// The total size of the regular files under `path` (its own size when it is a file, links followed), 0 when it
    /// cannot be read.
    static func total(of path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        if info.st_mode & S_IFMT == S_IFREG { return Int64(info.st_size) }
        guard info.st_mode & S_IFMT == S_IFDIR else { return 0 }
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        return folder >= 0 ? sum(folder) : 0
    }

    /// The regular files' sizes under the open folder `descriptor`, which is closed on return.
    private static func sum(_ descriptor: Int32) -> Int64 {
        guard let folder = fdopendir(descriptor) else {
            close(descriptor)
            return 0
        }
        defer { closedir(folder) }
        var total: Int64 = 0
        while let entry = readdir(folder) {
            let type = entry.pointee.d_type
            total += withUnsafePointer(to: entry.pointee.d_name) { name in
                name.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) { name in
                    guard name[0] != 0x2E else { return 0 }  // ".", "..", hidden
                    return size(of: name, type: type, in: descriptor)
                }
            }
        }
        return total
    }

    /// The bytes under one entry of an open folder: a file's size, a folder's sum, a link's target file's size.
    private static func size(of name: UnsafePointer<CChar>, type: UInt8, in folder: Int32) -> Int64 {
        var info = stat()
        switch Int32(type) {
        case Int32(DT_REG):
            return fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? Int64(info.st_size) : 0
        case Int32(DT_DIR):
            let child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
            return child >= 0 ? sum(child) : 0
        case Int32(DT_LNK):
            guard fstatat(folder, name, &info, 0) == 0, info.st_mode & S_IFMT == S_IFREG else { return 0 }
            return Int64(info.st_size)
        default:  // DT_UNKNOWN (some network file systems): ask the inode
            guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return 0 }
            switch info.st_mode & S_IFMT {
            case S_IFREG: return Int64(info.st_size)
            case S_IFDIR: return size(of: name, type: UInt8(DT_DIR), in: folder)
            case S_IFLNK: return size(of: name, type: UInt8(DT_LNK), in: folder)
            default: return 0
            }
        }
    }
}
