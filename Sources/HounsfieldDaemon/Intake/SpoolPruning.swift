/// What one pass of the spool's retention deleted (``Spool/prune(processedBefore:)``).
public struct SpoolPruning: Sendable, Equatable {
    /// Instances deleted.
    public var instances: Int
    /// Their bytes.
    public var bytes: Int

    /// A pass that deleted `instances` instances of `bytes` bytes.
    public init(instances: Int, bytes: Int) {
        self.instances = instances
        self.bytes = bytes
    }
}
