import HounsfieldCore

/// Constants of the shard format (`docs/format.md`).
public enum ShardFormat {
    /// The value of the file attribute `format`.
    public static let name = "hounsfield-shard"
    /// The format version this library writes and the newest it reads.
    public static let version = 1
    /// The software that writes shards, recorded in `writer` and `software_version`.
    public static let softwareVersion = "hounsfield \(HounsfieldVersion.current)"
    /// The group that holds one group per volume.
    static let volumesGroup = "volumes"
}
