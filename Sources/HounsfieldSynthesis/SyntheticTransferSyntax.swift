/// The encodings `hounsfield synth` can write, by the names users type.
public enum SyntheticTransferSyntax: String, CaseIterable, Sendable, Codable {
    /// Explicit VR little endian (1.2.840.10008.1.2.1).
    case explicit
    /// Implicit VR little endian (1.2.840.10008.1.2), the default syntax of old archives.
    case implicit
    /// Explicit VR big endian (1.2.840.10008.1.2.2), retired but still met.
    case bigEndian = "big-endian"
    /// Deflated explicit VR little endian (1.2.840.10008.1.2.1.99).
    case deflated
    /// JPEG lossless, process 14 selection value 1 (1.2.840.10008.1.2.4.70).
    case jpegLossless = "jpeg-lossless"
    /// JPEG-LS lossless (1.2.840.10008.1.2.4.80).
    case jpegLS = "jpeg-ls"
    /// RLE lossless (1.2.840.10008.1.2.5).
    case rle
    /// JPEG 2000 lossless only (1.2.840.10008.1.2.4.90).
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
