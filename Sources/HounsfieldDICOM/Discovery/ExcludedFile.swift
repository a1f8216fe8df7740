import HounsfieldCore
/// A file (or one frame's slice) that is not part of any volume, and why.
public struct ExcludedFile: Hashable, Sendable, Codable {
    /// What kind of exclusion this is, for tools that count or filter them.
    public enum Kind: String, Hashable, Sendable, Codable {
        case notDICOM = "not_dicom"
        case unreadable
        case malformed
        case directoryIndex = "dicomdir"
        case noImage = "no_image"
        case unsupported
        case localizer
        case duplicate
        case noGeometry = "no_geometry"
    }

    public var file: String
    public var kind: Kind
    public var reason: String

    public init(file: String, kind: Kind, reason: String) {
        self.file = file
        self.kind = kind
        self.reason = reason
    }

    init(_ error: DICOMError) {
        let kind: Kind = switch error {
        case .notDICOM: .notDICOM
        case .unreadable: .unreadable
        case .malformed: .malformed
        case .noPixelData: .noImage
        case .unsupported, .decodeFailed, .seriesRejected: .unsupported
        }
        self.init(file: error.file ?? "", kind: kind, reason: error.reason)
    }
}
