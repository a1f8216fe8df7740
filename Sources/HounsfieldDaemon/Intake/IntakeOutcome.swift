/// What the ``Spool`` did with an instance, and so what the sender is told.
public enum IntakeOutcome: Sendable, Equatable {
    /// Written, synced and recorded: the sender may be told success. `series` is the version of the series the
    /// instance joined (1, or more when it arrived after an earlier version was processed).
    case stored(SpooledInstance)
    /// The same SOP instance with the same bytes was stored before: nothing changed, and success is the answer
    /// (a sender that retries after a lost response must not be refused).
    case repeated(SpooledInstance)
    /// The same SOP instance with different bytes: kept aside under `conflicts/`, recorded, reported, and never
    /// put in place of the first. Success is the answer (the bytes are safe); the report says what happened.
    case conflict(path: String, first: SpooledInstance)
}

/// An instance as the spool holds it.
public struct SpooledInstance: Sendable, Equatable {
    /// Its identity.
    public var identity: InstanceIdentity
    /// Where its bytes are, under the spool folder.
    public var path: String
    /// SHA-256 of its bytes, hexadecimal.
    public var sha256: String
    /// The version of its series it belongs to (see ``Spool``).
    public var seriesVersion: Int
}

/// Why the ``Spool`` could not take an instance: the sender must be told to retry later ("out of resources",
/// 0xA700 for a C-STORE, 507 or 503 over HTTP), never success.
public enum IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spool's file system has less free space than its watermark.
    case spoolFull(folder: String, freeBytes: Int64, minimumBytes: Int64)
    /// Writing, syncing or recording failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .spoolFull(let folder, let free, let minimum):
            "the spool \(folder) has \(free) bytes free, below its watermark of \(minimum): free space or raise the watermark; senders are told to retry"
        case .writeFailed(let path, let reason):
            "could not store \(path): \(reason)"
        }
    }
}
