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

    func validate() throws {
        guard (1...4096).contains(size) else { throw ValidationError("--size must be between 1 and 4096") }
        guard (1...10_000).contains(slices) else { throw ValidationError("--slices must be between 1 and 10000") }
        guard abs(tilt) < 60 else { throw ValidationError("--tilt must be between -60 and 60 degrees") }
    }

    @OptionGroup var logging: LoggingOptions

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
