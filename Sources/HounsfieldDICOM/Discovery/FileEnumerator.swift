#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists the regular files under the given paths (files are taken as they are, folders recursively), sorted, so a
/// scan of the same tree always sees the same order.
///
/// A plain `readdir` walk that trusts `d_type` and calls `stat` only for symbolic links and file systems that do
/// not report types: Foundation's enumerator with resource values spent as long listing 10,000 files as parsing
/// their headers. Hidden folders (`.git`, `.Trash`) are not entered; links to folders are not followed (no cycles).
///
/// A given path that cannot be read is an error (the user named it: nothing sensible can be done); a folder met
/// inside one that cannot be listed is reported in `unlistable` and the walk goes on, as with any bad file.
enum FileEnumerator {
    static func files(under paths: [String]) throws(DICOMError) -> (files: [String], unlistable: [ExcludedFile]) {
        var files: [String] = []
        var unlistable: [ExcludedFile] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw .unreadable(file: path, reason: errno == ENOENT ? "no such file or folder" : String(cString: strerror(errno)))
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                guard let directory = opendir(path) else {
                    throw .unreadable(file: path, reason: "cannot list the folder: \(String(cString: strerror(errno)))")
                }
                walk(path, directory, into: &files, unlistable: &unlistable)
            } else {
                files.append(path)
            }
        }
        return (files.sorted(), unlistable)
    }

    /// Walks an opened folder (closing it), then its subfolders.
    private static func walk(
        _ folder: String, _ directory: OpaquePointer, into files: inout [String], unlistable: inout [ExcludedFile]
    ) {
        defer { closedir(directory) }
        var subfolders: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG):
                files.append(path)
            case Int32(DT_DIR):
                if !name.hasPrefix(".") { subfolders.append(path) }
            default:
                // A link, or a file system that does not fill d_type: ask stat (which follows links).
                var info = stat()
                guard stat(path, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                if type == S_IFREG {
                    files.append(path)
                } else if type == S_IFDIR && Int32(entry.pointee.d_type) == Int32(DT_UNKNOWN) && !name.hasPrefix(".") {
                    subfolders.append(path)
                }
            }
        }
        for subfolder in subfolders {
            guard let directory = opendir(subfolder) else {
                unlistable.append(ExcludedFile(file: subfolder, kind: .unreadable,
                                               reason: "cannot list the folder: \(String(cString: strerror(errno)))"))
                continue
            }
            walk(subfolder, directory, into: &files, unlistable: &unlistable)
        }
    }
}
