/// The encodings `hounsfield synth` can write, by the names users type.
public enum SyntheticTransferSyntax: String, CaseIterable, Sendable, Codable {
    case explicit
    case implicit
    case bigEndian = "big-endian"
    case deflated
    case jpegLossless = "jpeg-lossless"
    case jpegLS = "jpeg-ls"
    case rle
    case j2k

    /// The transfer syntax UID written into the files.
    public var uid: String {
        switch self {
        case .explicit: "1.2.840.10008.1.2.1"
        case .implicit: "1.2.840.10008.1.2"
        case .bigEndian: "1.2.840.10008.1.2.2"
        case .deflated: "1.2.840.10008.1.2.1.99"
        case .jpegLossless: "1.2.840.10008.1.2.4.70"
        case .jpegLS: "1.2.840.10008.1.2.4.80"
        case .rle: "1.2.840.10008.1.2.5"
        case .j2k: "1.2.840.10008.1.2.4.90"
        }
    }
}
