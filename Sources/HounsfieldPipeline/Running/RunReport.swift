import Foundation
import HounsfieldHDF5

/// `report.json`: what a run did with every series, machine-readable.
public struct RunReport: Codable, Sendable {
    /// What happened to one series.
    public struct SeriesOutcome: Codable, Sendable {
        /// What became of the series; the raw value is what `report.json` says.
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
            /// Not reached because the output failed (a full disk, a removed folder): the run stopped taking
            /// series. A `--resume` run processes it.
            case notProcessed = "not_processed"
            /// Would be processed (`--dry-run`).
            case planned
        }

        /// The output key (hashed identity).
        public var key: String
        /// SeriesDescription, for people.
        public var description: String?
        /// Modality of the series.
        public var modality: String?
        /// What became of the series.
        public var status: Status
        /// Why the filters skipped it (`filtered` only).
        public var reason: String?
        /// The stage that failed: `decode`, `transform` or `write` (`failed` only).
        public var stage: String?
        /// The file at fault, when the failure names one.
        public var file: String?
        /// The failure, in a sentence.
        public var error: String?
        /// Slices of the series as discovered.
        public var slices: Int
        /// Output shape (z, y, x) when written or planned.
        public var shape: [Int]?
        /// Wall-clock seconds per stage: `decode`, `transform`, `write`; a series decoded slice by slice as its
        /// chain read it (a chain that starts with a linear resampling) has `decode_and_transform` instead of the
        /// first two.
        public var seconds: [String: Double]
        /// Discovery's warnings about the series, as sentences.
        public var warnings: [String]
        /// Tries made (more than 1 after a transient I/O error).
        public var attempts: Int
        /// The labels written with the volume (layout, classes, voxels per class, their warnings), when label
        /// objects were paired with the series; a label object left out says why in its `warnings`.
        public var labels: LabelSummary? = nil
    }

    /// The software that ran (`hounsfield 0.2.0`).
    public var tool: String
    /// The configuration key every written volume records.
    public var configurationKey: String
    /// The output folder's path.
    public var output: String
    /// When the run started, ISO 8601.
    public var started: String
    /// Wall-clock seconds of the whole run.
    public var seconds: Double
    /// Whether nothing was written (`--dry-run`).
    public var dryRun: Bool
    /// Whether the run was cancelled (Ctrl-C) before it finished.
    public var cancelled: Bool
    /// Files read by discovery (every input, recursively).
    public var filesRead: Int = 0
    /// Series per status (`written`, `failed`, …), and `excluded_files`.
    public var counts: [String: Int]
    /// Bytes of voxels written, uncompressed.
    public var bytesWritten: Int
    /// Estimated output bytes (dry run: of the planned volumes).
    public var estimatedBytes: Int?
    /// Every series found, sorted by key.
    public var series: [SeriesOutcome]
    /// Files that formed no series, with their reason.
    public var excluded: [Excluded]
    /// Shard files this run published.
    public var shards: [String]
    /// How the run went (jobs per stage, memory limit, split): what flags and file decided, for whoever tunes it.
    public var execution: RunConfiguration.Execution?
    /// Why the output could not be written, when it could not (a full disk, a failed write or fsync, a removed
    /// folder): the run stopped there. Series in flight then are `failed` at stage `write`, the rest
    /// `not_processed`; `hounsfield run` exits with status 4.
    public var outputFailure: OutputFailure? = nil

    /// A file that formed no series.
    public struct Excluded: Codable, Sendable {
        /// The file's path (or buffer name).
        public var file: String
        /// Why it formed no series.
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case tool, configurationKey = "configuration_key", output, started, seconds, dryRun = "dry_run", cancelled
        case filesRead = "files_read"
        case counts, bytesWritten = "bytes_written", estimatedBytes = "estimated_bytes", series, excluded, shards
        case execution, outputFailure = "output_failure"
    }
}

extension RunReport.SeriesOutcome {
    enum CodingKeys: String, CodingKey {
        case key, description, modality, status, reason, stage, file, error, slices, shape, seconds, warnings, attempts
        case labels
    }
}
