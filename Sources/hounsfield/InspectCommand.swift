import ArgumentParser
import Foundation
import Hounsfield

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Find every DICOM series under the given files and folders and describe it.",
        discussion: """
            Reads headers only (unless --stats). Geometry is reported as acquired (sorted stack, as SimpleITK reads it);
            `corrected` shows the grid after gantry-tilt and spacing correction. Files that form no series are listed
            with their reason.
            """
    )

    @Argument(help: "DICOM files or folders (searched recursively).")
    var paths: [String]

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Decode every series and add HU statistics and a SHA-256 of the values.")
    var stats = false

    @Option(help: "Spacing policy: \(SpacingPolicy.allCases.map(\.rawValue).joined(separator: "|")).")
    var spacingPolicy: SpacingPolicy = .resample

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let progress = ProgressLine(label: "reading headers")
        let scanner = SeriesScanner(options: ScanOptions(spacing: spacingPolicy), progress: progress.update)
        let clock = ContinuousClock()
        var seconds: [String: Double] = [:]
        let scanStart = clock.now
        let result: ScanResult
        do {
            result = try await scanner.scan(paths)
            progress.finish()
            seconds["scan"] = (clock.now - scanStart).inSeconds
        } catch {
            throw ValidationError(error.description)
        }
        var reports: [SeriesReport] = []
        var failures: [ExcludedFile] = []
        let decoding = ProgressLine(label: "decoding series")
        for (index, series) in result.series.enumerated() {
            var statistics: HUStatistics?
            if stats {
                decoding.update(index, result.series.count)
                do {
                    let decodeStart = clock.now
                    let volume = try await series.loadVolume(.asAcquired)
                    let statisticsStart = clock.now
                    statistics = HUStatistics(volume)
                    seconds["decode", default: 0] += (statisticsStart - decodeStart).inSeconds
                    seconds["statistics", default: 0] += (clock.now - statisticsStart).inSeconds
                } catch {
                    // One bad series never stops the others: record it and go on.
                    failures.append(ExcludedFile(file: error.file ?? series.key, kind: .unsupported, reason: error.reason))
                }
            }
            reports.append(SeriesReport(series, statistics: statistics))
        }
        if stats { decoding.finish() }
        let report = InspectionReport(
            files: result.fileCount, seconds: seconds, series: reports, excluded: result.excluded + failures)
        if json {
            FileHandle.standardOutput.write(try JSONEncoder.report.encode(report))
            print()
        } else {
            print(InspectionTable(report).rendered)
        }
    }
}

extension SpacingPolicy: ExpressibleByArgument {}
