import Foundation

/// `report.json`: what a run did with every series, machine-readable.
public struct RunReport: Codable, Sendable {
    /// What happened to one series.
    public struct SeriesOutcome: Codable, Sendable {
        public enum Status: String, Codable, Sendable {
            /// Processed and published in a shard.
            case written
            /// Already published by an earlier run (resume).
            case resumed
            /// Not selected by the filters.
            case filtered
            /// Belongs to another `--shard-index`.
            case otherShard = "other_shard"
            /// Failed; `stage`, `file` and `error` say where and why.
            case failed
            /// Not reached because the run was cancelled.
            case cancelled
            /// Would be processed (`--dry-run`).
            case planned
        }

        /// The output key (hashed identity).
        public var key: String
        public var description: String?
        public var modality: String?
        public var status: Status
        public var reason: String?
        public var stage: String?
        public var file: String?
        public var error: String?
        public var slices: Int
        /// Output shape (z, y, x) when written or planned.
        public var shape: [Int]?
        public var seconds: [String: Double]
        public var warnings: [String]
        public var attempts: Int
    }

    public var tool: String
    public var configurationKey: String
    public var output: String
    public var started: String
    public var seconds: Double
    public var dryRun: Bool
    public var cancelled: Bool
    public var counts: [String: Int]
    public var bytesWritten: Int
    /// Estimated output bytes (dry run: of the planned volumes).
    public var estimatedBytes: Int?
    public var series: [SeriesOutcome]
    /// Files that formed no series, with their reason.
    public var excluded: [Excluded]
    public var shards: [String]

    public struct Excluded: Codable, Sendable {
        public var file: String
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case tool, configurationKey = "configuration_key", output, started, seconds, dryRun = "dry_run", cancelled
        case counts, bytesWritten = "bytes_written", estimatedBytes = "estimated_bytes", series, excluded, shards
    }
}

extension RunReport.SeriesOutcome {
    enum CodingKeys: String, CodingKey {
        case key, description, modality, status, reason, stage, file, error, slices, shape, seconds, warnings, attempts
    }
}
