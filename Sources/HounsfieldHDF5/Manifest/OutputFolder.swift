import Foundation

/// The naming rules of an output folder (`docs/format.md`): shard and manifest names per worker, and reading every
/// manifest in the folder.
public struct OutputFolder: Sendable {
    /// The folder, standardized.
    public let url: URL
    /// The folder's path.
    public var path: String { url.path }

    /// The folder at `url`; it need not exist yet.
    public init(_ url: URL) { self.url = url.standardizedFileURL }

    /// A shard's name: `shard-00042.h5`, or `shard-00042-w3.h5` for worker "w3".
    public static func shardName(number: Int, worker: String?) -> String {
        let digits = String(number).count >= 5 ? String(number) : String(repeating: "0", count: 5 - String(number).count) + String(number)
        return "shard-\(digits)" + (worker.map { "-\($0)" } ?? "") + ".h5"
    }

    /// The number and worker of a shard name (published or `.partial`), or nil for other files.
    public static func parseShardName(_ name: String) -> (number: Int, worker: String?, partial: Bool)? {
        var stem = name
        let partial = stem.hasSuffix(".h5.partial")
        if partial { stem.removeLast(".partial".count) }
        guard stem.hasPrefix("shard-"), stem.hasSuffix(".h5") else { return nil }
        stem.removeFirst("shard-".count)
        stem.removeLast(".h5".count)
        let parts = stem.split(separator: "-", maxSplits: 1).map(String.init)
        guard let number = Int(parts[0]), number >= 0 else { return nil }
        return (number, parts.count > 1 ? parts[1] : nil, partial)
    }

    /// The manifest a writer appends to: `manifest.jsonl`, or `manifest-w3.jsonl` for worker "w3".
    public static func manifestName(worker: String?) -> String {
        worker.map { "manifest-\($0).jsonl" } ?? "manifest.jsonl"
    }

    /// Where the writers of a coordinated run keep their own manifests, relative to the output folder: hidden, so
    /// that readers see only the coordinator's `manifest.jsonl`.
    public static let workerLedgerFolder = ".hounsfield/workers"

    /// Whether a worker name is allowed (letters, digits, `_` and `.`; it must not contain `-`).
    public static func isValidWorker(_ worker: String) -> Bool {
        !worker.isEmpty && worker.count <= 64
            && worker.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "_" || $0 == "." }
    }

    /// Whether a volume key is allowed: `[A-Za-z0-9_.-]{1,128}`, not `.` or `..`.
    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 128 && key != "." && key != ".."
            && key.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }
    }

    /// File names in the folder (empty when it does not exist).
    func fileNames() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? []
    }

    /// Published shard names, sorted.
    public func shardNames() -> [String] {
        fileNames().filter { Self.parseShardName($0).map { !$0.partial } ?? false }
    }

    /// Manifest file names: `manifest.jsonl` first, then the workers' in name order.
    public func manifestNames() -> [String] {
        let names = fileNames().filter { $0.hasPrefix("manifest") && $0.hasSuffix(".jsonl") }
        return names.filter { $0 == "manifest.jsonl" } + names.filter { $0 != "manifest.jsonl" }
    }

    /// Every manifest line in the folder, in file order. A line that does not parse (the torn end of a manifest whose
    /// writer died mid-append) is skipped and reported in `unreadable`.
    public func manifestEntries() -> (entries: [ManifestEntry], unreadable: [String]) {
        var entries: [ManifestEntry] = []
        var unreadable: [String] = []
        let decoder = JSONDecoder()
        for name in manifestNames() {
            guard let data = FileManager.default.contents(atPath: url.appendingPathComponent(name).path) else { continue }
            for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
                if let entry = try? decoder.decode(ManifestEntry.self, from: Data(line)) {
                    entries.append(entry)
                } else {
                    unreadable.append("\(name):\(number + 1)")
                }
            }
        }
        return (entries, unreadable)
    }

    /// A reader of the shard that holds volume `key`, found through the manifests: a training loop that has a key
    /// from `manifestEntries()` reads it without tracking shards itself. One reader per task: HDF5 handles are not
    /// shared across threads.
    public func reader(for key: String) throws(ShardError) -> ShardReader {
        guard let entry = manifestEntries().entries.last(where: { $0.key == key && $0.status == "ok" }) else {
            throw .missingVolume(key: key, location: path + " (no manifest line names it)")
        }
        return try ShardReader(url: url.appendingPathComponent(entry.shard))
    }
}
