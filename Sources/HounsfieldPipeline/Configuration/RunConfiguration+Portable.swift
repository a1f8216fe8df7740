import Foundation

extension RunConfiguration {
    /// The configuration as a coordinator hands it to its workers: everything that decides the output (filters,
    /// loading, the transform chain spelled out, output type, layout, compression and shard size, and the salt, so
    /// that every worker hashes identifiers alike), and nothing that belongs to one process (inputs, the output
    /// folder, execution). ``ConfigurationFile/parse(_:file:)`` reads it back.
    ///
    /// Unlike ``recordedJSON`` it carries the salt: it travels only over the coordinator's authenticated session,
    /// never into the output folder.
    public var portableJSON: Data {
        var portable = self
        portable.transforms = try? transformChain()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(portable),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return Data("{}".utf8) }
        for key in ["inputs", "execution", "preprocessing"] { object[key] = nil }
        if var output = object["output"] as? [String: Any] { output["folder"] = nil; object["output"] = output }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
