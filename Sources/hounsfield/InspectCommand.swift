import ArgumentParser
import Foundation
import Hounsfield

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Find every DICOM series under the given files and folders and describe it.",
        discussion: """
            Reads headers only (unless --stats). Geometry is reported as acquired (sorted stack, as SimpleITK reads it);
            `corrected` shows the grid after gantry-tilt and spacing correction. Files that form no series, and series
            that fail to decode, are listed with their reason.
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

    func validate() throws {
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no file or folder at \(path): check the path (give DICOM files or folders)")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let display = InspectionDisplay()
        let options = InspectionOptions(scan: ScanOptions(spacing: spacingPolicy), statistics: stats)
        let report = try await Inspection(options: options, progress: display.update).run(paths)
        display.finish()
        if json {
            FileHandle.standardOutput.write(try JSONEncoder.report.encode(report))
            print()
        } else {
            print(InspectionTable(report).rendered)
        }
    }
}

extension SpacingPolicy: ExpressibleByArgument {}
