import Foundation
import HounsfieldCore
import HounsfieldNIfTI

/// How the coordinator finds its units of work: study folders, listed without reading a single DICOM header, so
/// that 100k studies cost seconds and workers do all the parsing.
public enum StudyListing: Sendable, Hashable {
    /// The folders `depth` levels below each input (1: each immediate subfolder is a study, the usual
    /// `archive/<study>/…` layout; 0: each input is one study). Hidden entries (`.name`) are skipped; symbolic
    /// links to folders are followed, each real folder listed once.
    ///
    /// An nnU-Net raw dataset met on the way (a folder with `imagesTr/` or `imagesTs/`, at any depth up to
    /// `depth`, the inputs included) is not a study but a set of cases: each case is a unit, named by the file of
    /// its first channel (`imagesTr/CASE_0000.nii.gz`). A worker given that file finds the rest of its case — other
    /// channels, `labelsTr/CASE.nii.gz`, `dataset.json` — as `run` does, so the output is the same; listing costs
    /// two folder reads per dataset and no header.
    case folders(inputs: [String], depth: Int)
    /// One study folder per line of a file (blank lines and lines starting with `#` are skipped): a selection
    /// made elsewhere (a cohort query, a list of accession folders).
    case listed(file: String)

    /// The study folders, each with the total size of its files (what orders leasing, largest first), sorted by
    /// path. Sizes are summed in parallel: on network storage most of the time is waiting for metadata.
    public func studies() throws(ListingError) -> [StudyFolder] {
        let paths = try self.paths()
        return Self.sized(paths[...])
    }

    /// The study folders in path order, in batches that start small and double (64, 128, … up to 4,096), each sized
    /// before it is handed to `body`: a caller that adds each batch to its journal can lease the first studies
    /// while the rest are still being measured. Summing the sizes is most of a listing's time (it reads every
    /// file's metadata: 30 million files for 100k studies), while the folders themselves are found with a few
    /// directory reads.
    public func studies(inBatches body: ([StudyFolder]) throws -> Void) throws {
        let paths = try self.paths()
        var start = 0, batch = 64
        while start < paths.count {
            let end = min(start + batch, paths.count)
            try body(Self.sized(paths[start..<end]))
            start = end
            batch = min(batch * 2, 4096)
        }
    }

    /// Folders (or files, for the cases of an nnU-Net dataset) with the total sizes of their files, in parallel.
    static func sized(_ paths: ArraySlice<String>) -> [StudyFolder] {
        let sizes = ParallelLoop.map(paths.count, concurrency: 16) { Self.totalSize(of: paths[paths.startIndex + $0]) }
        return zip(paths, sizes).map { StudyFolder(path: $0, size: $1) }
    }

    /// The study folders, unique and sorted by path, without their sizes.
    func paths() throws(ListingError) -> [String] {
        let paths: [String]
        switch self {
        case .folders(let inputs, let depth):
            var found: [String] = []
            var seen = Set<String>()
            for input in inputs {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder.boolValue else {
                    throw .notAFolder(input)
                }
                Self.collect(URL(fileURLWithPath: input).standardizedFileURL.path, depth: depth, into: &found, seen: &seen)
            }
            paths = found
        case .listed(let file):
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw .unreadableList(file) }
            let base = URL(fileURLWithPath: file).deletingLastPathComponent()
            paths = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
                .map { $0.hasPrefix("/") ? $0 : base.appendingPathComponent($0).standardizedFileURL.path }
        }
        return Array(Set(paths)).sorted()
    }

    private static func collect(_ path: String, depth: Int, into found: inout [String], seen: inout Set<String>) {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard seen.insert(real).inserted else { return }  // a link loop, or the same folder reached twice
        if let cases = datasetCases(at: path) {
            found += cases
            return
        }
        guard depth > 0 else {
            found.append(path)
            return
        }
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() where !name.hasPrefix(".") {
            let child = (path as NSString).appendingPathComponent(name)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: child, isDirectory: &isFolder), isFolder.boolValue {
                collect(child, depth: depth - 1, into: &found, seen: &seen)
            }
        }
    }

    /// The units of an nnU-Net raw dataset at `path`: one per case, the file of its lowest channel; nil when `path`
    /// is no such dataset. A dataset whose `dataset.json` cannot be read is one unit, the folder: its worker then
    /// reports the reason once, as `run` would.
    static func datasetCases(at path: String) -> [String]? {
        do {
            return try NNUNetDataset(folder: path).cases.compactMap { item in item.channels.keys.min().flatMap { item.channels[$0] } }
        } catch .notADataset {
            return nil
        } catch {
            return [path]
        }
    }

    /// The sum of the sizes of the regular files under `path` (links followed), 0 when it cannot be read; a file's
    /// own size when `path` is a file (a case of an nnU-Net dataset).
    static func totalSize(of path: String) -> Int64 { FolderSize.total(of: path) }
}

/// Why the study folders could not be listed.
public enum ListingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An input is missing or is not a folder.
    case notAFolder(String)
    /// The `--units-from` file cannot be read.
    case unreadableList(String)

    public var description: String {
        switch self {
        case .notAFolder(let path):
            "\(path) is not a folder: give folders whose subfolders are studies (or --depth 0 for study folders)"
        case .unreadableList(let file):
            "cannot read the list of study folders \(file)"
        }
    }
}
