import Foundation
import HounsfieldHDF5
import Synchronization

/// The output folder's `manifest.jsonl` as the coordinator keeps it: one line per accepted volume, appended (and
/// fsynced) after the journal has committed the unit, and rewritten from the journal when the coordinator starts
/// and when the run ends. Readers therefore only ever see volumes whose unit is done, each key once.
///
/// A crash between the journal's commit and the append loses nothing: the next start rewrites the file from the
/// journal, which keeps every accepted line. The final rewrite seals the file: the last completion's append can
/// come after it (the unit committed, the run seen finished and the file rewritten, then the append), and would
/// list its volumes a second time.
final class ManifestLedger: Sendable {
    let folder: OutputFolder
    /// Whether the final manifest is written: later appends are already in it.
    private let sealed = Mutex(false)

    init(folder: URL) { self.folder = OutputFolder(folder) }

    private var path: String { folder.url.appendingPathComponent(OutputFolder.manifestName(worker: nil)).path }

    /// Appends accepted lines (JSON, no newline).
    func append(_ lines: [String]) throws(ShardError) {
        guard !lines.isEmpty else { return }
        let bytes = Array(lines.joined(separator: "\n").utf8) + [UInt8(ascii: "\n")]
        try sealed.withLock { sealed throws(ShardError) in
            guard !sealed else { return }
            try Durability.append(bytes, to: path)
        }
    }

    /// Replaces the file with exactly `lines` (the journal's done set, sorted by key); `final` seals it against
    /// later appends (every unit is settled, so anything appended later is in `lines` already).
    func rewrite(_ lines: [String], final: Bool = false) throws(ShardError) {
        let bytes = lines.isEmpty ? [] : Array(lines.joined(separator: "\n").utf8) + [UInt8(ascii: "\n")]
        try sealed.withLock { sealed throws(ShardError) in
            try Durability.replace(path, with: bytes)
            try Durability.syncDirectory(folder.path)
            if final { sealed = true }
        }
    }

    /// The manifest lines of the volumes `keys` in the published shard `shard`, read from the shard itself (the
    /// authority on what it holds), keyed by volume key. Throws when the shard is missing or unreadable: the worker
    /// reported a shard the coordinator cannot see (an output folder that is not shared at the same path).
    func lines(of keys: Set<String>, inShard shard: String) throws(ShardError) -> [String: (checksum: String, line: String)] {
        let entries = try ShardReader(url: folder.url.appendingPathComponent(shard)).manifestEntries(relativeTo: folder)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var result: [String: (checksum: String, line: String)] = [:]
        for entry in entries where keys.contains(entry.key) {
            guard let data = try? encoder.encode(entry) else { continue }
            result[entry.key] = (entry.checksum, String(decoding: data, as: UTF8.self))
        }
        return result
    }
}
