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

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): cannot read the file (\(reason)); check that it exists and is readable"
        case .notDICOM(let file, let reason):
            "\(file): not a DICOM file (\(reason))"
        case .malformed(let file, let reason):
            "\(file): malformed DICOM (\(reason)); the file is probably truncated or corrupt — re-export it"
        case .noPixelData(let file, let reason):
            "\(file): no usable pixel data (\(reason))"
        case .unsupported(let file, let reason):
            "\(file): unsupported (\(reason))"
        case .decodeFailed(let file, let reason):
            "\(file): cannot decode pixel data (\(reason)); the compressed data is probably corrupt"
        case .seriesRejected(let series, let reason):
            "series \(series): \(reason)"
        }
    }

    /// The file this error is about (nil for series-level errors).
    public var file: String? {
        switch self {
        case .unreadable(let file, _), .notDICOM(let file, _), .malformed(let file, _), .noPixelData(let file, _),
            .unsupported(let file, _), .decodeFailed(let file, _):
            file
        case .seriesRejected:
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
