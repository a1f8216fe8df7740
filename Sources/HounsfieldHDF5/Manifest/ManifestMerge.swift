import Foundation

/// Joins the manifests of several writers (and the volumes of shards no manifest names) into one `manifest.jsonl`.
public struct ManifestMerge: Sendable {
    /// What a merge found and wrote.
    public struct Report: Sendable, Codable, Hashable {
        /// Lines in the merged manifest.
        public var volumes: Int
        /// Manifest files read.
        public var manifests: [String]
        /// Volumes rebuilt from shards that no manifest mentioned.
        public var recovered: [String]
        /// Keys found more than once: the line kept is the first by shard name; the others are listed as
        /// "key in shard".
        public var duplicates: [String]
        /// Manifest lines that did not parse (a torn last line), as "file:line".
        public var unreadable: [String]
        /// Lines whose shard file is missing, as "key in shard".
        public var missingShards: [String]
    }

    /// The output folder whose manifests are merged.
    public let folder: OutputFolder

    /// A merge of the manifests in `folder`; nothing is read until ``run()``.
    public init(folder: URL) { self.folder = OutputFolder(folder) }

    /// Merges and writes `manifest.jsonl` atomically, sorted by key. Run it when the writers have finished: a
    /// single writer (no worker name) appends to the same file.
    public func run() throws(ShardError) -> Report {
        let (lines, unreadable) = folder.manifestEntries()
        var entries = lines.filter { $0.status == "ok" }
        let shards = Set(folder.shardNames())
        let listed = Set(entries.map(\.shard))
        var recovered: [String] = []
        for name in shards.sorted() where !listed.contains(name) {
            let found = try ShardReader(url: folder.url.appendingPathComponent(name)).manifestEntries(relativeTo: folder)
            entries += found
            recovered += found.map(\.key)
        }
        var missingShards: [String] = []
        entries = entries.filter { entry in
            if shards.contains(entry.shard) { return true }
            missingShards.append("\(entry.key) in \(entry.shard)")
            return false
        }
        // The same key in two shards: keep the first shard by name (deterministic across reruns of merge).
        var chosen: [String: ManifestEntry] = [:]
        var duplicates: [String] = []
        for entry in entries.sorted(by: { ($0.key, $0.shard) < ($1.key, $1.shard) }) {
            if let kept = chosen[entry.key] {
                if kept.shard != entry.shard { duplicates.append("\(entry.key) in \(entry.shard)") }
            } else {
                chosen[entry.key] = entry
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes: [UInt8] = []
        for key in chosen.keys.sorted() {
            guard let line = try? encoder.encode(chosen[key]!) else { continue }
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        try Durability.replace(folder.url.appendingPathComponent(OutputFolder.manifestName(worker: nil)).path, with: bytes)
        try Durability.syncDirectory(folder.path)
        return Report(volumes: chosen.count, manifests: folder.manifestNames(), recovered: recovered,
                      duplicates: duplicates, unreadable: unreadable, missingShards: missingShards)
    }
}
