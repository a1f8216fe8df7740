import ArgumentParser
import Foundation
import Hounsfield

struct SynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a realistic synthetic CT series (body, lungs, bone) as real DICOM files.",
        discussion: "For tests, demos and benchmarks: the values are known exactly, and no patient data is involved."
    )

    @Option(name: .shortAndLong, help: "Folder to write the files into (created if needed).")
    var output: String

    @Option(help: "Rows and columns of each slice.")
    var size: Int = 512

    @Option(help: "Number of slices.")
    var slices: Int = 300

    @Option(help: "Spacing x,y,z in mm (z between slices along the table).", transform: parseSpacing)
    var spacing: [Double] = [0.7, 0.7, 1.25]

    @Option(help: "Transfer syntax: \(SyntheticTransferSyntax.allCases.map(\.rawValue).joined(separator: "|")).")
    var syntax: SyntheticTransferSyntax = .explicit

    @Option(help: "Gantry tilt in degrees.")
    var tilt: Double = 0

    @Flag(help: "Give the files random names (sorting must not depend on names).")
    var shuffleNames = false

    @Option(help: "Seed of the phantom's noise and of the UIDs.")
    var seed: UInt64 = 1

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        try Self.validate(size: size, slices: slices)
        try Self.validate(output: output)
        guard abs(tilt) < 60 else {
            throw ValidationError("--tilt is \(tilt)°: give a gantry tilt between -60 and 60 degrees (scanners tilt up to about 30)")
        }
    }

    /// The slice size and count a synthetic series can have (shared with `demo`).
    static func validate(size: Int, slices: Int) throws {
        guard (1...4096).contains(size) else {
            throw ValidationError("--size is \(size): give the rows and columns of a slice, 1 to 4096 (CT uses 512)")
        }
        guard (1...10_000).contains(slices) else {
            throw ValidationError("--slices is \(slices): give a number of slices from 1 to 10000")
        }
    }

    /// The output must be a folder or not exist yet (it is then created).
    static func validate(output: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("--output \(output) is a file: give a folder (it is created if needed)")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let series = SyntheticSeries(
            size: size, slices: slices, spacing: Vector3(spacing[0], spacing[1], spacing[2]), syntax: syntax,
            tiltDegrees: tilt, shuffleNames: shuffleNames, seed: seed)
        let start = ContinuousClock.now
        let paths = try await ParallelLoop.offload { () throws(DICOMError) in try series.write(to: output) }
        let elapsed = ContinuousClock.now - start
        print("wrote \(paths.count) \(syntax.rawValue) files (\(size)×\(size), spacing \(spacing.map { String($0) }.joined(separator: ","))) to \(output) in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))")
    }
}

extension SyntheticTransferSyntax: ExpressibleByArgument {}

func parseSpacing(_ text: String) throws -> [Double] {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard values.count == 3 || values.count == 1, values.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }) else {
        throw ValidationError("spacing must be three positive numbers x,y,z (or one for all axes), e.g. 0.7,0.7,1.25")
    }
    let numbers = values.map { $0! }
    return numbers.count == 1 ? Array(repeating: numbers[0], count: 3) : numbers
}
