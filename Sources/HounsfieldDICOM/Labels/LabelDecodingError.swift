import HounsfieldCore

/// Why a label object could not be put on a series' grid. Every case names the label file and says what to do;
/// nothing is ever placed on a guessed or shifted grid instead.
public enum LabelDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file could not be read or parsed (the underlying DICOM error says why).
    case unreadable(DICOMError)
    /// The label object references other series than the one it was asked to be decoded onto.
    case wrongSeries(file: String, referenced: [String], series: String)
    /// The label's pixel grid is not the series' grid (rows, columns, pixel spacing or orientation differ).
    case gridMismatch(file: String, reason: String)
    /// The object lacks something decoding needs, or holds a value that cannot be right.
    case invalid(file: String, reason: String)
    /// A layout this decoder does not read (a compressed 1-bit SEG, a series resampled to another grid).
    case unsupported(file: String, reason: String)
    /// Not one frame of the SEG lands on a slice of the series.
    case noFramePlaced(file: String, series: String, reason: String)

    /// The label file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let error): error.file ?? ""
        case .wrongSeries(let file, _, _), .gridMismatch(let file, _), .invalid(let file, _),
            .unsupported(let file, _), .noFramePlaced(let file, _, _):
            file
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let error):
            error.description
        case .wrongSeries(let file, let referenced, let series):
            "\(file): labels series \(referenced.isEmpty ? "(none named)" : referenced.joined(separator: ", ")), not series \(series); decode it onto the series it references (ScanResult.referencedSeries(of:))"
        case .gridMismatch(let file, let reason):
            "\(file): not on the series' grid (\(reason)); resample the labels onto the series in the tool that made them"
        case .invalid(let file, let reason):
            "\(file): \(reason); the label object is incomplete or damaged — re-export it"
        case .unsupported(let file, let reason):
            "\(file): unsupported (\(reason))"
        case .noFramePlaced(let file, let series, let reason):
            "\(file): no frame lands on a slice of series \(series) (\(reason)); check that the SEG was made from this series"
        }
    }
}
