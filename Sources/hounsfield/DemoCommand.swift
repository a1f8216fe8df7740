import ArgumentParser
import Foundation
import Hounsfield

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Make a synthetic CT series, inspect it and run the pipeline on it: the quickest way to see Hounsfield work.",
        discussion: "Writes the series, the shards, previews and report.json under --output (default ./hounsfield-demo)."
    )

    @Option(name: .shortAndLong, help: "Folder for the sample series and the report.")
    var output: String = "hounsfield-demo"

    @Option(help: "Rows and columns of each slice.")
    var size: Int = 512

    @Option(help: "Number of slices.")
    var slices: Int = 120

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        try SynthCommand.validate(size: size, slices: slices)
        try SynthCommand.validate(output: output)
    }

    func run() async throws {
        logging.bootstrap()
        let folder = output + "/series"
        print("1. writing a synthetic \(size)×\(size)×\(slices) CT series (JPEG lossless) to \(folder)")
        let synthetic = SyntheticSeries(size: size, slices: slices, syntax: .jpegLossless, shuffleNames: true)
        try? FileManager.default.removeItem(atPath: folder)
        _ = try await ParallelLoop.offload { () throws(DICOMError) in try synthetic.write(to: folder) }

        print("2. inspecting it (headers only)")
        print(InspectionTable(try await Inspection().run([folder])).rendered)

        let shards = output + "/shards"
        print("")
        print("3. running the pipeline: decode → clip [-1000, 1000] HU → 1 mm linear → [0, 1] → float32, gzip:1 shards with previews")
        try? FileManager.default.removeItem(atPath: shards)
        var configuration = RunConfiguration(inputs: [folder])
        configuration.output.folder = shards
        configuration.output.previews = true
        configuration.preprocessing.window = [-1000, 1000]
        configuration.preprocessing.spacing = [1]
        configuration.preprocessing.normalize = "minmax"
        var batch = try BatchRun(configuration: configuration)
        let display = RunDisplay()
        batch.progress = display.update
        let report = try await batch.run()
        display.finish()
        print(RunSummary(report).rendered)
        print("")
        print("shards:   \(shards)  (format: docs/format.md)")
        print("previews: \(shards)/index.html")
        print("next:     \(CommandLine.arguments[0]) run <your DICOM folder> --output out --spacing 1 --window 0,2000 --normalize minmax")
        print("          python: Examples/python/README.md reads the shards with h5py / PyTorch")
    }
}
