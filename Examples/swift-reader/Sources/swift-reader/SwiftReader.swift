import ArgumentParser

/// Reads training data the way a training loop does: from the shards `hounsfield run` wrote (`shards`, the usual
/// case), or straight from DICOM, decoded and transformed in memory (`dicom`, for a quick experiment without a
/// preprocessing run).
// Async because the `dicom` subcommand awaits the scanner and the decoder; `shards` is synchronous.
@main
struct SwiftReader: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-reader",
        abstract: "Iterate random patches or slabs of CT volumes, as a training loop would.",
        subcommands: [ShardsCommand.self, DICOMCommand.self],
        defaultSubcommand: ShardsCommand.self
    )
}
