/// One instance a ``DICOMReceiver`` received: already written, flushed and synced to ``path`` exactly as it
/// arrived (compressed pixel data stays compressed), its header read back and checked against the request.
public struct ReceivedInstance: Sendable {
    /// The sender's AE title.
    public var callingAETitle: String
    /// The sender's IPv4 address.
    public var peerAddress: String
    /// SOP Class UID (checked to be the one the C-STORE request announced).
    public var sopClassUID: String
    /// SOP Instance UID (checked likewise).
    public var sopInstanceUID: String
    /// Study Instance UID.
    public var studyInstanceUID: String
    /// Series Instance UID.
    public var seriesInstanceUID: String
    /// The transfer syntax it was sent, and is stored, in.
    public var transferSyntaxUID: String
    /// The complete, synced DICOM file, in the receiver's folder.
    public var path: String
    /// Its size in bytes.
    public var bytes: Int
    /// Numbers the receiver's associations from 1, for logs.
    public var association: UInt64
}

/// The DIMSE status a C-STORE is answered with: what the receiver's handler decided about an instance.
public struct StoreStatus: Sendable, Hashable, RawRepresentable {
    /// The 16-bit DIMSE status.
    public var rawValue: UInt16
    /// A status by its number.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 0x0000: the instance is durable; the sender may forget it.
    public static let success = StoreStatus(rawValue: 0x0000)
    /// 0xA700: out of resources; the sender keeps the instance and tries again later.
    public static let outOfResources = StoreStatus(rawValue: 0xA700)
    /// 0xC000: cannot understand; the sender should not send it again as is.
    public static let cannotUnderstand = StoreStatus(rawValue: 0xC000)
}
