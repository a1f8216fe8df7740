import HounsfieldCore
/// Why a file, a series or a volume could not be read. Every case names the file (or series) and says what to do.
public enum DICOMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file cannot be opened or read at all.
    case unreadable(file: String, reason: String)
    /// The bytes are not a DICOM object.
    case notDICOM(file: String, reason: String)
    /// The object is DICOM but malformed (truncated, bad lengths or value representations).
    case malformed(file: String, reason: String)
    /// The object has no usable pixel data for its declared size.
    case noPixelData(file: String, reason: String)
    /// The pixel format or transfer syntax is not supported.
    case unsupported(file: String, reason: String)
    /// The codec failed on the pixel data.
    case decodeFailed(file: String, reason: String)
    /// A whole series was refused under the chosen policy (tilt or spacing `reject`) or cannot form a volume.
    case seriesRejected(series: String, reason: String)
    /// The work on a series was cancelled (a shutdown, a deadline, a caller that stopped waiting): nothing is wrong
    /// with the series, and a later run processes it.
    case cancelled(series: String)

    public var description: String {
        if let file { return "\(file): \(reason)" }
        return reason
    }

    /// The explanation without the file name (for reports that list the file beside it).
    public var reason: String {
        switch self {
        case .unreadable(_, let reason):
            "cannot read the file (\(reason)); check that it exists and is readable"
        case .notDICOM(_, let reason):
            "not a DICOM file (\(reason))"
        case .malformed(_, let reason):
            "malformed DICOM (\(reason)); the file is probably truncated or corrupt — re-export it"
        case .noPixelData(_, let reason):
            "no usable pixel data (\(reason))"
        case .unsupported(_, let reason):
            "unsupported (\(reason))"
        case .decodeFailed(_, let reason):
            "cannot decode pixel data (\(reason)); the compressed data is probably corrupt"
        case .seriesRejected(let series, let reason):
            "series \(series): \(reason)"
        case .cancelled(let series):
            "series \(series): cancelled before it was read whole; a later run processes it"
        }
    }

    /// The file this error is about (nil for series-level errors).
    public var file: String? {
        switch self {
        case .unreadable(let file, _), .notDICOM(let file, _), .malformed(let file, _), .noPixelData(let file, _),
            .unsupported(let file, _), .decodeFailed(let file, _):
            file
        case .seriesRejected, .cancelled:
            nil
        }
    }

    init(_ failure: NativeFailure, file: String) {
        switch failure.category {
        case .io: self = .unreadable(file: file, reason: failure.message)
        case .notDICOM: self = .notDICOM(file: file, reason: failure.message)
        case .parse, .argument: self = .malformed(file: file, reason: failure.message)
        case .noPixels: self = .noPixelData(file: file, reason: failure.message)
        case .unsupported: self = .unsupported(file: file, reason: failure.message)
        case .codec: self = .decodeFailed(file: file, reason: failure.message)
        }
    }
}
