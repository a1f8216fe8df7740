import HounsfieldCore
/// Everything a scan found: the series that form volumes, and every file that does not, with its reason.
public struct ScanResult: Sendable {
    /// The series, ordered by study and series UID (then split key), so reports are stable.
    public var series: [SeriesDescriptor]
    /// Files that belong to no series: not DICOM, unreadable, no image, DICOMDIR, slices dropped as localizers
    /// or duplicates, folders that cannot be listed and symbolic links that lead nowhere.
    public var excluded: [ExcludedFile]
    /// How many files were examined.
    public var fileCount: Int
    /// Wall-clock seconds per phase: `list` (finding files), `headers` (parsing them), `assemble` (series rules).
    public var seconds: [String: Double] = [:]
    /// The files and folders the scan was given (paths, or buffer names for a scan of buffers).
    public var inputs: [String] = []
    /// Symbolic links followed while listing the inputs (to files and to folders).
    public var symbolicLinksFollowed = 0
    /// What the listing noticed that is not about one file, in sentences: a symbolic link loop, or a folder reached a
    /// second time through another link, each entered once.
    public var notes: [String] = []
    /// DICOM SEG and RTSTRUCT objects whose referenced series is among ``series``, ordered by file name; one whose
    /// series is missing is in ``excluded`` instead (kind ``ExcludedFile/Kind/labelWithoutSeries``).
    public var labelObjects: [LabelObjectDescriptor] = []

    /// The series `label` labels, when the scan found it.
    public func referencedSeries(of label: LabelObjectDescriptor) -> SeriesDescriptor? {
        label.referencedSeries(in: series)
    }

    /// When the scan found no series: one sentence that says where it looked and why nothing formed a series, for a
    /// command to print before it exits with an error —
    /// `no series found under /data/a, /data/b: 12 files read, 12 excluded (not DICOM: 10, localizer: 2)`.
    /// Nil when there is at least one series.
    public var noSeriesMessage: String? {
        guard series.isEmpty else { return nil }
        let places = inputs.isEmpty ? "the inputs"
            : inputs.count <= 5 ? inputs.joined(separator: ", ")
            : inputs.prefix(3).joined(separator: ", ") + ", … (\(inputs.count) in all)"
        var sentence = "no series found under \(places): \(fileCount) file\(fileCount == 1 ? "" : "s") read"
        if !excluded.isEmpty {
            var counts: [ExcludedFile.Kind: Int] = [:]
            for exclusion in excluded { counts[exclusion.kind, default: 0] += 1 }
            let reasons = counts.sorted { ($1.value, $0.key.rawValue) < ($0.value, $1.key.rawValue) }
                .map { "\($0.key.label): \($0.value)" }
            sentence += ", \(excluded.count) excluded (\(reasons.joined(separator: ", ")))"
        }
        if fileCount == 0 {
            sentence += symbolicLinksFollowed == 0
                ? " (no files: an empty folder, or only hidden ones)"
                : " (\(symbolicLinksFollowed) symbolic link\(symbolicLinksFollowed == 1 ? "" : "s") followed)"
        } else if symbolicLinksFollowed > 0 {
            sentence += "; \(symbolicLinksFollowed) symbolic link\(symbolicLinksFollowed == 1 ? "" : "s") followed"
        }
        return sentence
    }
}

extension ExcludedFile.Kind {
    /// The kind in words, for counts in sentences (`not DICOM: 10`).
    public var label: String {
        switch self {
        case .notDICOM: "not DICOM"
        case .unreadable: "unreadable"
        case .malformed: "malformed"
        case .directoryIndex: "DICOMDIR"
        case .noImage: "no image"
        case .unsupported: "unsupported"
        case .localizer: "localizer"
        case .duplicate: "duplicate"
        case .noGeometry: "no geometry"
        case .labelWithoutSeries: "label without its series"
        }
    }
}
