#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists the regular files under the given paths (files are taken as they are, folders recursively), sorted, so a
/// scan of the same tree always sees the same order.
///
/// A plain `readdir` walk that trusts `d_type`: regular files are never `stat`ed (Foundation's enumerator with
/// resource values spent as long listing 10,000 files as parsing their headers). Symbolic links are followed, to
/// files and to folders, so a dataset that is a folder of links to study folders is read like the studies
/// themselves; a link is listed under its own path, not its target's. Every folder entered is identified by
/// (device, inode) with one `fstat` of the opened folder, so a folder reached again — a link to an ancestor, a
/// cycle of links, two links to one study — is entered once, and the repeat is reported in `notes`. Hidden folders
/// (`.git`, `.Trash`) are not entered.
///
/// A given path that cannot be read is an error (the user named it: nothing sensible can be done); a folder met
/// inside one that cannot be listed, or a link whose target does not exist, is reported in `unlistable` and the
/// walk goes on, as with any bad file.
enum FileEnumerator {
    /// What a walk found.
    struct Listing {
        /// Regular files (or links to them), sorted.
        var files: [String] = []
        /// Folders that could not be listed and links that lead nowhere, with their reason.
        var unlistable: [ExcludedFile] = []
        /// Symbolic links followed (to files and to folders, given paths included), dangling ones not counted.
        var linksFollowed = 0
        /// Folders reached again (a link loop, or a second way into one folder) and not entered again.
        var notes: [String] = []
    }

    /// A folder's identity: the same folder seen through two paths has the same one.
    private struct FolderID: Hashable {
        let device: UInt64
        let inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// The walk's state: what it found and every folder it entered (with the path it was first entered by).
    private struct Walk {
        var listing = Listing()
        var entered: [FolderID: String] = [:]
    }

    static func files(under paths: [String]) throws(DICOMError) -> Listing {
        var walk = Walk()
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let failure = errno
                let reason = isLink(path)
                    ? failure == ELOOP
                        ? "a symbolic link to \(linkTarget(path) ?? "?") that leads back to itself (a loop of links)"
                        : "a symbolic link to \(linkTarget(path) ?? "?"), which does not exist"
                    : failure == ENOENT ? "no such file or folder" : String(cString: strerror(failure))
                throw .unreadable(file: path, reason: reason)
            }
            if isLink(path) { walk.listing.linksFollowed += 1 }
            if info.st_mode & S_IFMT == S_IFDIR {
                guard let directory = opendir(path) else {
                    throw .unreadable(file: path, reason: "cannot list the folder: \(String(cString: strerror(errno)))")
                }
                enter(path, directory, viaLink: false, ancestors: [], walk: &walk)
            } else {
                walk.listing.files.append(path)
            }
        }
        walk.listing.files.sort()
        return walk.listing
    }

    /// Enters an opened folder (closing it) unless it was entered before, lists it, then walks its subfolders.
    /// `ancestors` are the folders above it on this path of the walk: reaching one of them again is a loop.
    private static func enter(
        _ folder: String, _ directory: OpaquePointer, viaLink: Bool, ancestors: [FolderID], walk: inout Walk
    ) {
        var info = stat()
        guard fstat(dirfd(directory), &info) == 0 else {
            closedir(directory)
            walk.listing.unlistable.append(ExcludedFile(
                file: folder, kind: .unreadable, reason: "cannot read the folder: \(String(cString: strerror(errno)))"))
            return
        }
        let id = FolderID(info)
        if let first = walk.entered[id] {
            closedir(directory)
            walk.listing.notes.append(
                ancestors.contains(id) ? "symbolic link loop: \(folder) → \(first), not entered again"
                : viaLink ? "symbolic link \(folder) → \(first), a folder already read: not entered again"
                : "\(folder) is the folder \(first) (same device and inode), already read: not entered again")
            return
        }
        walk.entered[id] = folder
        // By name, so that which of two ways into a folder is taken first does not depend on the file system.
        let subfolders = list(folder, directory, walk: &walk).sorted { $0.0 < $1.0 }
        let path = ancestors + [id]
        for (subfolder, isLink) in subfolders {
            guard let directory = opendir(subfolder) else {
                walk.listing.unlistable.append(ExcludedFile(
                    file: subfolder, kind: .unreadable, reason: "cannot list the folder: \(String(cString: strerror(errno)))"))
                continue
            }
            enter(subfolder, directory, viaLink: isLink, ancestors: path, walk: &walk)
        }
    }

    /// Lists one folder (closing it): files are added to the listing, subfolders returned with whether a link led
    /// there.
    private static func list(_ folder: String, _ directory: OpaquePointer, walk: inout Walk) -> [(String, Bool)] {
        defer { closedir(directory) }
        var subfolders: [(String, Bool)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let type = Int32(entry.pointee.d_type)
            switch type {
            case Int32(DT_REG):
                walk.listing.files.append(path)
            case Int32(DT_DIR):
                if !name.hasPrefix(".") { subfolders.append((path, false)) }
            case Int32(DT_LNK), Int32(DT_UNKNOWN):
                // A link (followed), or a file system that does not fill d_type: ask stat, which follows links.
                var info = stat()
                guard stat(path, &info) == 0 else {
                    let failure = errno
                    if type == Int32(DT_LNK) || isLink(path) {
                        let target = linkTarget(path) ?? "?"
                        walk.listing.unlistable.append(ExcludedFile(
                            file: path, kind: .unreadable,
                            reason: failure == ELOOP
                                ? "a symbolic link to \(target) that leads back to itself (a loop of links): nothing to read"
                                : failure == ENOENT
                                ? "a symbolic link to \(target), which does not exist (a dangling link)"
                                : "a symbolic link to \(target), which cannot be read: \(String(cString: strerror(failure)))"))
                    }
                    continue
                }
                let link = type == Int32(DT_LNK) || isLink(path)
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    walk.listing.files.append(path)
                    if link { walk.listing.linksFollowed += 1 }
                case S_IFDIR where !name.hasPrefix("."):
                    subfolders.append((path, link))
                    if link { walk.listing.linksFollowed += 1 }
                default:
                    break  // sockets, devices, FIFOs: never DICOM files
                }
            default:
                break
            }
        }
        return subfolders
    }

    private static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    /// What a symbolic link points to, as written in the link.
    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
