import Foundation

extension RunConfiguration {
    /// The configuration as a coordinator hands it to its workers: everything that decides the output (filters,
    /// loading, the transform chain spelled out, output type, layout, compression and shard size, and the salt, so
    /// that every worker hashes identifiers alike), and nothing that belongs to one process (inputs, the output
    /// folder, execution). ``ConfigurationFile/parse(_:file:)`` reads it back.
    ///
    /// Unlike ``recordedJSON`` it carries the salt: it travels only over the coordinator's authenticated session,
    /// never into the output folder.
    public var portableJSON: Data { fileJSON(keepingSalt: true) }
}
