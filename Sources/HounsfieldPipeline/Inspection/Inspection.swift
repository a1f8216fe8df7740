import HounsfieldCore
import HounsfieldDICOM
import Logging

/// Describes every series under a set of files and folders: what `hounsfield inspect` prints.
///
/// ```swift
/// let report = try await Inspection(options: InspectionOptions(statistics: true)).run(["/data/study"])
/// for series in report.series { print(series.key, series.size, series.hu?.mean ?? .nan) }
/// for file in report.excluded { print(file.file, file.reason) }
/// ```
///
/// Headers are read first (``SeriesScanner``); with ``InspectionOptions/statistics`` each series is then decoded as
/// acquired, one at a time (each decode uses every core), and dropped once its statistics are taken, so memory holds
/// one volume at a time. A series that fails to decode is listed in ``InspectionReport/excluded`` with the file at
/// fault and the reason, keeps its header description, and the others go on: one bad series never stops the rest.
public struct Inspection: Sendable {
    /// Headers only, or voxels too, and how discovery groups files.
    public var options: InspectionOptions
    /// Called as the work advances (from worker threads while headers are read). Long inspections show progress
    /// with it.
    public var progress: (@Sendable (InspectionProgress) -> Void)?
    /// Where decode failures and the scan's exclusions are logged (debug level: a library stays quiet unless asked).
    public var logger: Logger

    /// An inspection with `options`, logging to `logger` and reporting to `progress`.
    public init(
        options: InspectionOptions = InspectionOptions(), logger: Logger = Logger(label: "hounsfield.inspect"),
        progress: (@Sendable (InspectionProgress) -> Void)? = nil
    ) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Inspects files and folders (searched recursively).
    ///
    /// Throws ``DICOMError`` only when a given path does not exist or cannot be read: unreadable or non-DICOM files,
    /// and series that fail to decode, are reported in the result instead. Throws `CancellationError` when the task
    /// is cancelled; decoding stops between files.
    public func run(_ paths: [String]) async throws -> InspectionReport {
        let progress = progress
        let scanner = SeriesScanner(options: options.scan, logger: logger) { done, total in
            progress?(InspectionProgress(phase: .headers, done: done, total: total))
        }
        let clock = ContinuousClock()
        let scanStart = clock.now
        let scan = try await scanner.scan(paths)
        var seconds = ["scan": (clock.now - scanStart).inSeconds]
        let labels = scan.labelObjects.map { LabelObjectReport($0, series: scan.referencedSeries(of: $0)) }
            + NIfTILabelSource.labelMaps(in: scan) { candidate, image in
                try? LabelObjectReport(niftiLabelMap: image, file: candidate.file, series: scan.series.first { candidate.labels($0) })
            }
        // A NIfTI label map is not DICOM, but it is not left out either: it is listed with the labels instead.
        let labelMaps = Set(labels.filter { $0.kind == .niftiLabelMap }.map(\.file))
        let excluded = scan.excluded.filter { !labelMaps.contains($0.file) }
        guard options.statistics else {
            return InspectionReport(
                files: scan.fileCount, seconds: seconds, series: scan.series.map { SeriesReport($0) },
                excluded: excluded, labels: labels)
        }
        var reports: [SeriesReport] = []
        var failures: [ExcludedFile] = []
        for (index, series) in scan.series.enumerated() {
            progress?(InspectionProgress(phase: .decoding, done: index, total: scan.series.count))
            try Task.checkCancellation()
            var statistics: HUStatistics?
            do {
                let decodeStart = clock.now
                let volume = try await series.loadVolume(.asAcquired)
                let statisticsStart = clock.now
                statistics = HUStatistics(volume)
                seconds["decode", default: 0] += (statisticsStart - decodeStart).inSeconds
                seconds["statistics", default: 0] += (clock.now - statisticsStart).inSeconds
            } catch {
                // A decode stopped by cancellation is not a bad series.
                try Task.checkCancellation()
                failures.append(Self.failure(error, of: series))
                logger.debug("decoding failed", metadata: ["series": "\(series.key)", "error": "\(error)"])
            }
            reports.append(SeriesReport(series, statistics: statistics))
        }
        progress?(InspectionProgress(phase: .decoding, done: scan.series.count, total: scan.series.count))
        return InspectionReport(
            files: scan.fileCount, seconds: seconds, series: reports, excluded: excluded + failures,
            labels: labels)
    }

    /// The exclusion that reports a failed decode: the file at fault, or the series key for a series-level error.
    static func failure(_ error: DICOMError, of series: SeriesDescriptor) -> ExcludedFile {
        var failure = ExcludedFile(error)
        if error.file == nil { failure.file = series.key }
        return failure
    }
}
