import HounsfieldCore
/// Everything a scan found: the series that form volumes, and every file that does not, with its reason.
public struct ScanResult: Sendable {
    /// The series, ordered by study and series UID (then split key), so reports are stable.
    public var series: [SeriesDescriptor]
    /// Files that belong to no series: not DICOM, unreadable, no image, DICOMDIR, and slices dropped as localizers
    /// or duplicates.
    public var excluded: [ExcludedFile]
    /// How many files were examined.
    public var fileCount: Int
    /// Wall-clock seconds per phase: `list` (finding files), `headers` (parsing them), `assemble` (series rules).
    public var seconds: [String: Double] = [:]
}
