/// Why a ``DICOMReceiver`` could not start.
public enum DICOMReceiverError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A setting is out of range; the sentence names it.
    case invalidOptions(String)
    /// The socket could not be opened or bound, or the folder is not writable.
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidOptions(let problem):
            "the DICOM receiver's settings are wrong: \(problem)"
        case .cannotListen(let host, let port, let reason):
            "cannot listen for DICOM on \(host):\(port): \(reason) (is the port taken by another process, or below 1024 without the right to bind it?)"
        }
    }
}
