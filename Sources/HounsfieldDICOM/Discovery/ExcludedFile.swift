import HounsfieldCore
/// A file (or one frame's slice) that is not part of any volume, and why.
public struct ExcludedFile: Hashable, Sendable, Codable {
    /// What kind of exclusion this is, for tools that count or filter them.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// The bytes are not a DICOM object.
        case notDICOM = "not_dicom"
        /// The file could not be opened or read.
        case unreadable
        /// DICOM, but truncated, with bad lengths, or with a layout attribute that does not parse (NumberOfFrames
        /// `1A`).
        case malformed
        /// A DICOMDIR: an index of other files, which are scanned on their own.
        case directoryIndex = "dicomdir"
        /// No Rows/Columns or no frames: a structured report, a presentation state, and so on.
        case noImage = "no_image"
        /// An image that cannot form a CT volume: colour, an unsupported bit layout or transfer syntax.
        case unsupported
        /// A scout: ImageType says LOCALIZER, or a few slices not parallel to the rest of the series.
        case localizer
        /// Another copy of an instance already in the series (same SOPInstanceUID and frame).
        case duplicate
        /// A slice without position or orientation in a series whose other slices have them.
        case noGeometry = "no_geometry"
        /// A DICOM SEG or RTSTRUCT whose referenced series is not among the inputs: there is no grid to put it on.
        case labelWithoutSeries = "label_without_series"
    }

    /// The path or buffer name; for one frame of a multi-frame object, the object's name.
    public var file: String
    /// The category, for tools that count or filter exclusions.
    public var kind: Kind
    /// The sentence for the user: what is wrong and, where there is something to do, what.
    public var reason: String

    /// An exclusion of `file` for `reason`.
    public init(file: String, kind: Kind, reason: String) {
        self.file = file
        self.kind = kind
        self.reason = reason
    }

    /// The exclusion `error` calls for: its file (empty for a series-level error, which names no file), the kind
    /// that matches the error, and its reason.
    public init(_ error: DICOMError) {
        let kind: Kind = switch error {
        case .notDICOM: .notDICOM
        case .unreadable: .unreadable
        case .malformed: .malformed
        case .noPixelData: .noImage
        case .unsupported, .decodeFailed, .seriesRejected, .cancelled: .unsupported
        }
        self.init(file: error.file ?? "", kind: kind, reason: error.reason)
    }
}
