import ArgumentParser
import Hounsfield

@main
struct HounsfieldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hounsfield",
        abstract: "Turn folders of CT DICOM files into training-ready volumes.",
        discussion: """
            Start with `hounsfield demo`, which makes a synthetic CT series and inspects it.
            Coordinates are DICOM patient coordinates (LPS, mm); see docs/geometry.md.
            """,
        version: HounsfieldVersion.current,
        subcommands: [RunCommand.self, InspectCommand.self, ManifestCommand.self, SynthCommand.self, DemoCommand.self]
    )
}
