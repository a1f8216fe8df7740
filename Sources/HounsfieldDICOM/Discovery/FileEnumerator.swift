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
enum FileEnumerator {
    static func files(under paths: [String]) throws(DICOMError) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw .unreadable(file: path, reason: "no such file or folder")
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                try walk(path, into: &files)
            } else {
                files.append(path)
            }
        }
        return files.sorted()
    }

    private static func walk(_ folder: String, into files: inout [String]) throws(DICOMError) {
        guard let directory = opendir(folder) else {
            throw .unreadable(file: folder, reason: "cannot list the folder: \(String(cString: strerror(errno)))")
        }
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
        for subfolder in subfolders { try walk(subfolder, into: &files) }
    }
}
