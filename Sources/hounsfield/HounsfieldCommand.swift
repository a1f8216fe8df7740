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
        subcommands: [RunCommand.self, ServeCommand.self, CoordinatorCommand.self, WorkerCommand.self, InspectCommand.self, ManifestCommand.self,
                      SynthCommand.self, DemoCommand.self]
    )

    /// Unblocks the termination signals first (see ``TerminationSignals``), then parses and runs as usual.
    static func main() async {
        TerminationSignals.unblock()
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
