/// How a ``DICOMReceiver`` listens and what it lets in. The defaults are the ones a PACS neighbour expects: every
/// interface, 16 associations at once, 16 KiB PDUs, a 30 s association timeout and a 60 s idle timeout.
public struct DICOMReceiverOptions: Sendable, Hashable {
    /// Our AE title (1–16 characters): associations that call another one are rejected.
    public var aeTitle: String
    /// The IPv4 address to listen on ("0.0.0.0" for every interface, "127.0.0.1" for this machine only).
    public var host: String = "0.0.0.0"
    /// The TCP port; 0 picks a free one (``DICOMReceiver/port`` tells which).
    public var port: Int = 11112
    /// Calling AE titles allowed to send; empty allows every one. Others are rejected at association.
    public var allowedCallingAETitles: [String] = []
    /// Associations served at once; beyond it, new ones are rejected at once (transient), not queued.
    public var maxAssociations: Int = 16
    /// The largest PDU received, 4,096–131,072 bytes.
    public var maxPDUBytes: Int = 16_384
    /// How long a new connection may take to send its association request (ARTIM).
    public var associationTimeout: Duration = .seconds(30)
    /// How long an association may stay silent before it is aborted (DIMSE).
    public var idleTimeout: Duration = .seconds(60)

    /// A receiver answering to `aeTitle`, with the defaults for everything else.
    public init(aeTitle: String) { self.aeTitle = aeTitle }

    /// The first problem with these options, as a sentence naming the setting, or nil.
    public var problem: String? {
        if aeTitle.isEmpty || aeTitle.utf8.count > 16 { return "the AE title '\(aeTitle)' must have 1 to 16 characters" }
        if !(0...65_535).contains(port) { return "the DICOM port \(port) is not a TCP port" }
        if maxAssociations < 1 { return "the association limit must be at least 1" }
        if !(4_096...131_072).contains(maxPDUBytes) { return "the PDU size \(maxPDUBytes) must be 4096 to 131072 bytes" }
        if associationTimeout < .seconds(1) || idleTimeout < .seconds(1) { return "the timeouts must be at least 1 s" }
        if let title = allowedCallingAETitles.first(where: { $0.isEmpty || $0.utf8.count > 16 }) {
            return "the allowed calling AE title '\(title)' must have 1 to 16 characters"
        }
        return nil
    }
}
