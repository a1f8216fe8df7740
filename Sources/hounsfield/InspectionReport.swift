import Crypto
import Foundation
import Hounsfield

/// What `hounsfield inspect --json` prints: one object per series, and the files that form no series.
struct InspectionReport: Encodable {
    var tool = "hounsfield \(HounsfieldVersion.current)"
    var files: Int
    /// Wall-clock seconds per stage: `scan` for all headers, `decode` and `statistics` summed over series.
    var seconds: [String: Double] = [:]
    var series: [SeriesReport]
    var excluded: [ExcludedFile]
}

/// One series, in the field names of the issue tracker's specification (snake_case, ITK conventions).
struct SeriesReport: Encodable {
    var key: String
    var seriesUID: String
    var studyUID: String?
    var modality: String?
    var description: String?
    var files: Int
    var transferSyntaxes: [String]
    /// The stack as acquired: what SimpleITK's ImageSeriesReader reports.
    var size: [Int]
    var spacing: [Double]
    var origin: [Double]
    var direction: [Double]
    var warnings: [SeriesWarning]
    var notes: [String]
    var excluded: [ExcludedFile]
    /// The grid `run` will produce under the default policies (tilt corrected, spacing made even), if different.
    var corrected: CorrectedGrid?
    var hu: HUStatistics?

    enum CodingKeys: String, CodingKey {
        case key, seriesUID = "series_uid", studyUID = "study_uid", modality, description, files
        case transferSyntaxes = "transfer_syntaxes", size, spacing, origin, direction, warnings, notes, excluded
        case corrected, hu
    }

    /// Every key is always present (absent values are `null`), so readers can rely on the schema.
    func encode(to encoder: any Encoder) throws {
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

    init(_ series: SeriesDescriptor, statistics: HUStatistics?) {
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
            corrected = CorrectedGrid(
                size: grid.size.array, spacing: grid.geometry.spacing.array, origin: grid.geometry.origin.array,
                direction: grid.geometry.direction.rowMajor, corrections: grid.corrections)
        }
    }
}

struct CorrectedGrid: Encodable {
    var size: [Int]
    var spacing: [Double]
    var origin: [Double]
    var direction: [Double]
    var corrections: [String]
}

/// HU statistics of the stack as acquired, and the SHA-256 of its values as little-endian Float32 in C order.
struct HUStatistics: Encodable {
    var min: Double
    var max: Double
    var mean: Double
    var std: Double
    var sha256: String

    init(_ volume: Volume<Float32>) {
        let statistics = VoxelStatistics(of: volume)
        min = statistics.minimum
        max = statistics.maximum
        mean = statistics.mean
        std = statistics.standardDeviation
        sha256 = volume.voxels.withUnsafeBytes { bytes in
            // Float32 in memory is little endian on every platform Swift runs on for this tool (x86-64, arm64).
            SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        }
    }
}

extension JSONEncoder {
    /// How every report is written: indented, keys sorted (stable diffs), slashes unescaped (readable paths).
    static var report: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
