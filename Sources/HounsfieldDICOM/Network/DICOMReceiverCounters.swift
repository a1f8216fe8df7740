/// What a ``DICOMReceiver`` did since it started, for metrics.
public struct DICOMReceiverCounters: Sendable, Hashable {
    /// Associations accepted and not yet ended.
    public var openAssociations: Int
    /// Associations accepted.
    public var acceptedAssociations: Int
    /// Associations rejected: AE title, limit, stopping, or no valid request.
    public var rejectedAssociations: Int
    /// Associations ended by an abort (either side, a timeout, or the stop deadline).
    public var abortedAssociations: Int
    /// C-ECHO requests answered.
    public var echoes: Int
    /// Instances the handler took (success or warning).
    public var storedInstances: Int
    /// C-STORE requests answered with anything else.
    public var failedInstances: Int
    /// File bytes of the stored instances.
    public var storedBytes: Int
}
