/// The version of Hounsfield, recorded in every output it writes.
public enum HounsfieldVersion {
    /// This build's version, written to shard attributes, manifests and run reports so every output names what made it.
    public static let current = "0.2.0"
}
