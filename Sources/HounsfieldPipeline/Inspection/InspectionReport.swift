import HounsfieldCore
import HounsfieldDICOM

/// What an inspection found: one ``SeriesReport`` per series, and every file that forms no series or could not be
/// decoded, with its reason. `hounsfield inspect --json` prints it.
///
/// It is an object rather than a bare array so that fields can be added without breaking readers; the names are
/// snake_case and stable, since scripts (the fidelity report, the benchmarks) read them.
public struct InspectionReport: Codable, Hashable, Sendable {
    /// The software that inspected (`hounsfield 0.2.0`), so a saved report says what produced it.
    public var tool: String
    /// How many files were examined.
    public var files: Int
    /// Wall-clock seconds per stage: `scan` for all headers, and with statistics `decode` and `statistics` summed
    /// over the series.
    public var seconds: [String: Double]
    /// Every series, in the scan's order (study and series UID, then split key).
    public var series: [SeriesReport]
    /// Files that form no series (not DICOM, truncated, no image, DICOMDIR, …) and, when decoding, a file of each
    /// series that failed to decode; every entry names the file (or the series key) and the reason.
    public var excluded: [ExcludedFile]

    /// A report of `series` from `files` examined files, with `excluded` files and `seconds` per stage.
    public init(
        tool: String = "hounsfield \(HounsfieldVersion.current)", files: Int, seconds: [String: Double] = [:],
        series: [SeriesReport], excluded: [ExcludedFile]
    ) {
        self.tool = tool
        self.files = files
        self.seconds = seconds
        self.series = series
        self.excluded = excluded
    }
}
