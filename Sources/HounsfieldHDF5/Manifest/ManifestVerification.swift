import Foundation
import HounsfieldCore

/// Checks every manifest line of an output folder against its shard: the dataset exists, shape and dtype agree,
/// and the stored voxels have the recorded checksum. Also finds volumes that shards hold but no manifest lists.
public struct ManifestVerification: Sendable {
    /// One thing that is wrong, with the key and shard it concerns.
    public struct Problem: Sendable, Codable, Hashable, CustomStringConvertible {
        /// The volume's key.
        public var key: String
        /// The shard file name the manifest gives for it.
        public var shard: String
        /// What is wrong, in a sentence.
        public var reason: String
        public var description: String { "\(key) in \(shard): \(reason)" }
    }

    /// What a verification found.
    public struct Report: Sendable, Codable, Hashable {
        /// Volumes checked.
        public var checked: Int
        /// Volumes whose every check passed.
        public var passed: Int
        /// Every mismatch or unreadable volume, one entry per problem (a volume can have several).
        public var problems: [Problem]
        /// Volumes in shards that no manifest line lists (run `manifest merge` to add them).
        public var unlisted: [String]
        /// Manifest lines that did not parse.
        public var unreadable: [String]
        /// Whether nothing is wrong: no problems and no unreadable lines. Unlisted volumes are not counted as wrong.
        public var isClean: Bool { problems.isEmpty && unreadable.isEmpty }
    }

    /// The output folder being checked.
    public let folder: OutputFolder

    /// A verification of `folder`; nothing is read until ``run(progress:)``.
    public init(folder: URL) { self.folder = OutputFolder(folder) }

    /// Verifies every line; `progress` is called after each volume with (done, total).
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> Report {
        let (lines, unreadable) = folder.manifestEntries()
        var seen = Set<String>()
        let entries = lines.filter { $0.status == "ok" && seen.insert("\($0.key)\u{0}\($0.shard)").inserted }
        var readers: [String: ShardReader] = [:]
        var problems: [Problem] = []
        var passed = 0
        for (done, entry) in entries.enumerated() {
            defer { progress(done + 1, entries.count) }
            func problem(_ reason: String) { problems.append(Problem(key: entry.key, shard: entry.shard, reason: reason)) }
            do throws(ShardError) {
                let reader: ShardReader
                if let open = readers[entry.shard] {
                    reader = open
                } else {
                    reader = try ShardReader(url: folder.url.appendingPathComponent(entry.shard))
                    readers[entry.shard] = reader
                }
                let stored = try reader.volume(entry.key)
                var failed = false
                if [stored.size.z, stored.size.y, stored.size.x] != entry.shape {
                    problem("shape \([stored.size.z, stored.size.y, stored.size.x]) in the shard, \(entry.shape) in the manifest"); failed = true
                }
                if stored.elementType != entry.dtype {
                    problem("dtype \(stored.elementType.rawValue) in the shard, \(entry.dtype.rawValue) in the manifest"); failed = true
                }
                if stored.checksum != entry.checksum {
                    problem("checksum attribute \(stored.checksum) differs from the manifest's \(entry.checksum)"); failed = true
                }
                let actual = try reader.storedChecksum(entry.key, dataset: "image")
                if actual != entry.checksum {
                    problem("the stored voxels hash to \(actual), not \(entry.checksum): the data changed or is damaged"); failed = true
                }
                if let labelChecksum = stored.labelChecksum, try reader.storedChecksum(entry.key, dataset: "label") != labelChecksum {
                    problem("the stored label does not match its checksum"); failed = true
                }
                if !failed { passed += 1 }
            } catch {
                problem(error.description)
            }
        }
        // Volumes present in shards but in no manifest line.
        var unlisted: [String] = []
        let listed = Set(entries.map { "\($0.key)\u{0}\($0.shard)" })
        for name in folder.shardNames() {
            guard let reader = readers[name] ?? (try? ShardReader(url: folder.url.appendingPathComponent(name))),
                  let keys = try? reader.keys() else { continue }
            unlisted += keys.filter { !listed.contains("\($0)\u{0}\(name)") }.map { "\($0) in \(name)" }
        }
        return Report(checked: entries.count, passed: passed, problems: problems, unlisted: unlisted, unreadable: unreadable)
    }
}
