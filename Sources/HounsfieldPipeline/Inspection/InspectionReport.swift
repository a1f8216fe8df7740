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
    /// The DICOM SEG and RTSTRUCT objects found beside the series, each with the series it labels (one whose series
    /// is missing is in ``excluded``).
    public var labels: [LabelObjectReport]

    /// A report of `series` from `files` examined files, with `excluded` files, the `labels` found and `seconds`
    /// per stage.
    public init(
        tool: String = "hounsfield \(HounsfieldVersion.current)", files: Int, seconds: [String: Double] = [:],
        series: [SeriesReport], excluded: [ExcludedFile], labels: [LabelObjectReport] = []
    ) {
        self.tool = tool
        self.files = files
        self.seconds = seconds
        self.series = series
        self.excluded = excluded
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey { case tool, files, seconds, series, excluded, labels }

    /// Reads a report; one written before label objects were reported has no `labels` and reads as none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tool = try container.decode(String.self, forKey: .tool)
        files = try container.decode(Int.self, forKey: .files)
        seconds = try container.decode([String: Double].self, forKey: .seconds)
        series = try container.decode([SeriesReport].self, forKey: .series)
        excluded = try container.decode([ExcludedFile].self, forKey: .excluded)
        labels = try container.decodeIfPresent([LabelObjectReport].self, forKey: .labels) ?? []
    }
}
