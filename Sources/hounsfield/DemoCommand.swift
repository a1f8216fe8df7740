import ArgumentParser
import Foundation
import Hounsfield

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Make a synthetic CT series and inspect it: the quickest way to see Hounsfield work.",
        discussion: "Writes the series and a JSON report under --output (default ./hounsfield-demo)."
    )

    @Option(name: .shortAndLong, help: "Folder for the sample series and the report.")
    var output: String = "hounsfield-demo"

    @Option(help: "Rows and columns of each slice.")
    var size: Int = 512

    @Option(help: "Number of slices.")
    var slices: Int = 120

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let folder = output + "/series"
        print("1. writing a synthetic \(size)×\(size)×\(slices) CT series (JPEG lossless) to \(folder)")
        let synthetic = SyntheticSeries(size: size, slices: slices, syntax: .jpegLossless, shuffleNames: true)
        try? FileManager.default.removeItem(atPath: folder)
        _ = try await ParallelLoop.offload { () throws(DICOMError) in try synthetic.write(to: folder) }

        print("2. scanning headers and decoding the volume")
        let clock = ContinuousClock()
        let start = clock.now
        let scan = try await SeriesScanner().scan([folder])
        let scanned = clock.now
        guard let series = scan.series.first else { throw ValidationError("the demo series was not found") }
        let volume = try await series.loadVolume(.asAcquired)
        let decoded = clock.now
        let report = InspectionReport(
            files: scan.fileCount, seconds: ["scan": (scanned - start).inSeconds, "decode": (decoded - scanned).inSeconds],
            series: [SeriesReport(series, statistics: HUStatistics(volume))],
            excluded: scan.excluded)
        print(InspectionTable(report).rendered)
        let reportPath = output + "/inspect.json"
        try JSONEncoder.report.encode(report).write(to: URL(fileURLWithPath: reportPath))
        print("")
        print("scan: \(format(scanned - start)), decode: \(format(decoded - scanned)) for \(volume.size.voxelCount / 1_000_000) M voxels")
        print("report: \(reportPath)")
        print("next: \(CommandLine.arguments[0]) inspect \(folder) --stats --json")
    }

    private func format(_ duration: Duration) -> String {
        duration.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))
    }
}
