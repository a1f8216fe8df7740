import HounsfieldCore
import Foundation

/// Lists the regular files under the given paths (files are taken as they are, folders recursively), sorted, so a
/// scan of the same tree always sees the same order. Hidden folders (`.git`, `.Trash`) are not entered.
enum FileEnumerator {
    static func files(under paths: [String]) throws(DICOMError) -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .unreadable(file: path, reason: "no such file or folder")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let root = URL(fileURLWithPath: path)
            guard let walker = manager.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey],
                options: [.skipsPackageDescendants])
            else {
                throw .unreadable(file: path, reason: "cannot list the folder")
            }
            for case let url as URL in walker {
                let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey])
                if values?.isDirectory == true {
                    if url.lastPathComponent.hasPrefix(".") { walker.skipDescendants() }
                    continue
                }
                if values?.isRegularFile == true { files.append(url.path) }
            }
        }
        return files.sorted()
    }
}
