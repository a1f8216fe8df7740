import HounsfieldCore
import HounsfieldDICOM
import HounsfieldNIfTI
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
        // NIfTI files as a run sees them (decision 61): images are listed with the series, label maps with the labels.
        var labelMapReports: [String: LabelObjectReport] = [:]
        let nifti = NIfTIDiscovery(scan: scan) { candidate, image in
            labelMapReports[candidate.file] = try? LabelObjectReport(
                niftiLabelMap: image, file: candidate.file, seriesKey: scan.series.first { candidate.labels($0) }?.key)
        }
        for image in nifti.images {
            for label in image.labels {
                if labelMapReports[label.file] != nil {
                    labelMapReports[label.file]?.seriesKey = image.input.identity
                } else if let read = try? NIfTIImage(contentsOf: label.file) {
                    labelMapReports[label.file] = try? LabelObjectReport(
                        niftiLabelMap: read, file: label.file, seriesKey: image.input.identity, names: label.classNames)
                }
            }
        }
        let labels = scan.labelObjects.map { LabelObjectReport($0, series: scan.referencedSeries(of: $0)) }
            + labelMapReports.keys.sorted().map { labelMapReports[$0]! }
        let used = nifti.handled.union(labelMapReports.keys)
        let excluded = scan.excluded.filter { !used.contains($0.file) } + nifti.excluded
        guard options.statistics else {
            return InspectionReport(
                files: scan.fileCount, seconds: seconds,
                series: scan.series.map { SeriesReport($0) } + nifti.images.map { SeriesReport($0.input) },
                excluded: excluded, labels: labels)
        }
        var reports: [SeriesReport] = []
        var failures: [ExcludedFile] = []
        let total = scan.series.count + nifti.images.count
        for (index, series) in scan.series.enumerated() {
            progress?(InspectionProgress(phase: .decoding, done: index, total: total))
            try Task.checkCancellation()
            var statistics: HUStatistics?
            do {
                statistics = try await Self.statistics(clock: clock, seconds: &seconds) { () async throws(DICOMError) in
                    try await series.loadVolume(.asAcquired)
                }
            } catch {
                // A decode stopped by cancellation is not a bad series.
                try Task.checkCancellation()
                failures.append(Self.failure(error, of: series))
                logger.debug("decoding failed", metadata: ["series": "\(series.key)", "error": "\(error)"])
            }
            reports.append(SeriesReport(series, statistics: statistics))
        }
        for (index, image) in nifti.images.enumerated() {
            progress?(InspectionProgress(phase: .decoding, done: scan.series.count + index, total: total))
            try Task.checkCancellation()
            var statistics: HUStatistics?
            do {
                statistics = try await Self.statistics(clock: clock, seconds: &seconds) { () async throws(NIfTIError) in
                    try await ParallelLoop.offload { () throws(NIfTIError) in try image.input.decode() }
                }
            } catch {
                failures.append(ExcludedFile(file: image.input.file, kind: .unreadable, reason: error.description))
            }
            reports.append(SeriesReport(image.input, statistics: statistics))
        }
        progress?(InspectionProgress(phase: .decoding, done: total, total: total))
        return InspectionReport(
            files: scan.fileCount, seconds: seconds, series: reports, excluded: excluded + failures,
            labels: labels)
    }

    /// Decodes one volume with `decode` and takes its HU statistics, adding the time of each to `seconds`
    /// (`decode`, `statistics`); the volume is dropped on return.
    private static func statistics<Failure: Error>(
        clock: ContinuousClock, seconds: inout [String: Double],
        _ decode: () async throws(Failure) -> Volume<Float32>
    ) async throws(Failure) -> HUStatistics {
        let decodeStart = clock.now
        let volume = try await decode()
        let statisticsStart = clock.now
        let statistics = HUStatistics(volume)
        seconds["decode", default: 0] += (statisticsStart - decodeStart).inSeconds
        seconds["statistics", default: 0] += (clock.now - statisticsStart).inSeconds
        return statistics
    }

    /// The exclusion that reports a failed decode: the file at fault, or the series key for a series-level error.
    static func failure(_ error: DICOMError, of series: SeriesDescriptor) -> ExcludedFile {
        var failure = ExcludedFile(error)
        if error.file == nil { failure.file = series.key }
        return failure
    }
}
