/// One output of a finished unit: a key written into a shard, and the checksum of what was written.
///
/// Only paths, keys and digests reach the coordinator, never voxels. Each key appears in a journal's done set exactly
/// once across all units: the manifest merged from the journal never names a key twice.
public struct UnitOutcome: Sendable, Hashable, Codable {
    /// The dataset key, as in the manifest.
    public let key: String
    /// The shard file (relative to the output folder) that holds the key.
    public let shard: String
    /// The digest of the key's data, as the manifest records it.
    public let checksum: String
    /// The volume's whole manifest line (JSON, no newline), when the coordinator read it from the shard: kept so
    /// that `manifest.jsonl` can be rewritten from the journal alone.
    public let line: String?

    /// An outcome as a worker reports it.
    public init(key: String, shard: String, checksum: String, line: String? = nil) {
        self.key = key
        self.shard = shard
        self.checksum = checksum
        self.line = line
    }
}
