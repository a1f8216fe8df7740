import Foundation

/// Reads a study from disk into memory, standing in for the body of an upload: the per-study API takes bytes, so a
/// service never writes a request to disk.
enum StudyFiles {
    /// Every regular file under `paths` (folders recursively), named by its path. Files that are not DICOM are kept:
    /// the scanner reports each with its reason, and they never stop the others.
    static func read(_ paths: [String]) throws -> [(name: String, bytes: [UInt8])] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            guard isFolder.boolValue else { files.append(path); continue }
            let folder = URL(fileURLWithPath: path)
            let found = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
            while let url = found?.nextObject() as? URL {
                if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url.path) }
            }
        }
        // The API takes `[UInt8]`; `Data` from a request converts with one copy.
        return try files.sorted().map { (name: $0, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))) }
    }
}
