import HounsfieldCore
import HounsfieldDICOM

/// One series as an inspection describes it: identity, the stack as acquired, what discovery noticed, the grid
/// loading will produce and, when decoded, its HU statistics.
///
/// The field names are those of `hounsfield inspect --json` (snake_case; geometry in ITK's conventions: LPS, size
/// and spacing x, y, z, direction row-major), and every key is always written (absent values are `null`), so readers
/// can rely on the schema.
public struct SeriesReport: Codable, Hashable, Sendable {
    /// The grid loading produces under the default ``LoadOptions`` when it differs from the stack as acquired (tilt
    /// corrected, spacing made even), and the corrections that lead there.
    public struct CorrectedGrid: Codable, Hashable, Sendable {
        /// Voxels along x, y, z.
        public var size: [Int]
        /// Millimetres between voxel centres along x, y, z.
        public var spacing: [Double]
        /// Centre of the first voxel, in patient coordinates (LPS, mm).
        public var origin: [Double]
        /// The direction cosines, row-major (ITK's `GetDirection()` order).
        public var direction: [Double]
        /// The corrections loading applies, as sentences.
        public var corrections: [String]

        /// The grid and corrections of `grid`.
        public init(_ grid: PlannedGrid) {
            size = grid.size.array
            spacing = grid.geometry.spacing.array
            origin = grid.geometry.origin.array
            direction = grid.geometry.direction.rowMajor
            corrections = grid.corrections
        }
    }

    /// The series' stable key (what `run` names its volume after, before hashing).
    public var key: String
    /// SeriesInstanceUID.
    public var seriesUID: String
    /// StudyInstanceUID, when the files carry one.
    public var studyUID: String?
    /// Modality (CT, MR, …), when the files carry one.
    public var modality: String?
    /// SeriesDescription, for people.
    public var description: String?
    /// Files that make up the series.
    public var files: Int
    /// Transfer syntax UIDs found among its files.
    public var transferSyntaxes: [String]
    /// Voxels along x, y, z of the stack as acquired: what SimpleITK's ImageSeriesReader reports.
    public var size: [Int]
    /// Millimetres between voxel centres along x, y, z, as acquired.
    public var spacing: [Double]
    /// Centre of the first voxel, in patient coordinates (LPS, mm), as acquired.
    public var origin: [Double]
    /// The direction cosines, row-major, as acquired.
    public var direction: [Double]
    /// Tilt, uneven spacing, missing slices, padding and the other traps discovery found.
    public var warnings: [SeriesWarning]
    /// How the series was grouped, split and sorted, in sentences.
    public var notes: [String]
    /// Slices discovery dropped from this series (localizers, duplicates), with their reason.
    public var excluded: [ExcludedFile]
    /// The grid `run` will produce under the default policies, when it differs from the stack as acquired.
    public var corrected: CorrectedGrid?
    /// HU statistics of the stack as acquired; nil unless the inspection decoded the series and decoding succeeded.
    public var hu: HUStatistics?

    /// The JSON names, in ``InspectionReport``'s schema.
    enum CodingKeys: String, CodingKey {
        case key, seriesUID = "series_uid", studyUID = "study_uid", modality, description, files
        case transferSyntaxes = "transfer_syntaxes", size, spacing, origin, direction, warnings, notes, excluded
        case corrected, hu
    }

    /// Every key is always present (absent values are `null`), so readers can rely on the schema.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(seriesUID, forKey: .seriesUID)
        try container.encode(studyUID, forKey: .studyUID)
        try container.encode(modality, forKey: .modality)
        try container.encode(description, forKey: .description)
        try container.encode(files, forKey: .files)
        try container.encode(transferSyntaxes, forKey: .transferSyntaxes)
        try container.encode(size, forKey: .size)
        try container.encode(spacing, forKey: .spacing)
        try container.encode(origin, forKey: .origin)
        try container.encode(direction, forKey: .direction)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(notes, forKey: .notes)
        try container.encode(excluded, forKey: .excluded)
        try container.encode(corrected, forKey: .corrected)
        try container.encode(hu, forKey: .hu)
    }

    /// Describes `series` from its headers; `statistics` when it was decoded. `corrected` is planned from headers
    /// alone (no decoding) and left nil when loading would change nothing.
    public init(_ series: SeriesDescriptor, statistics: HUStatistics? = nil) {
        key = series.key
        seriesUID = series.seriesInstanceUID
        studyUID = series.studyInstanceUID
        modality = series.modality
        description = series.seriesDescription
        files = series.fileCount
        transferSyntaxes = series.transferSyntaxes
        size = series.size.array
        spacing = series.geometry.spacing.array
        origin = series.geometry.origin.array
        direction = series.geometry.direction.rowMajor
        warnings = series.warnings
        notes = series.notes
        excluded = series.excluded
        hu = statistics
        if let grid = try? series.plannedGrid(for: LoadOptions()), !grid.corrections.isEmpty {
            corrected = CorrectedGrid(grid)
        }
    }

    /// Describes a NIfTI image a run would process (decision 61): its key is the input's identity, it has no UIDs,
    /// and its one note says which file it is.
    public init(_ input: NIfTIInput, statistics: HUStatistics? = nil) {
        key = input.identity
        seriesUID = ""
        studyUID = nil
        modality = input.modality
        description = input.description
        files = 1
        transferSyntaxes = []
        size = input.size.array
        spacing = input.geometry.spacing.array
        origin = input.geometry.origin.array
        direction = input.geometry.direction.rowMajor
        warnings = []
        notes = ["a NIfTI image: \(input.file)"]
        excluded = []
        hu = statistics
    }
}
