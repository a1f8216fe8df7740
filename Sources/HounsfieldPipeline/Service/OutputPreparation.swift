import Foundation
import HounsfieldHDF5

/// Claims an output folder for one configuration: `configuration.json` records the processing part of the
/// configuration, its key, and the configuration as a file that `--config` and ``ConfigurationFile`` read back
/// (salt left out). A folder that already records another key is refused: one folder holds one preprocessing, so
/// every volume in it was made the same way.
package struct OutputPreparation {
    package init(configuration: RunConfiguration, output: URL) {
        self.configuration = configuration
        self.output = output
    }

    let configuration: RunConfiguration
    let output: URL

    package func recordConfiguration() throws(RunError) {
        let path = output.appendingPathComponent("configuration.json")
        if let data = FileManager.default.contents(atPath: path.path),
           let recorded = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let key = recorded["configuration_key"] as? String, key != configuration.key {
            throw .output("\(output.path) holds output of another configuration (key \(key.prefix(12))…, this run's is \(configuration.key.prefix(12))…); use a new folder or the same configuration")
        }
        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let processing = try JSONSerialization.jsonObject(with: configuration.processingJSON)
            let recorded = try JSONSerialization.jsonObject(with: configuration.recordedJSON)
            let object: [String: Any] = ["configuration_key": configuration.key, "processing": processing,
                                         "configuration": recorded, "software_version": ShardFormat.softwareVersion]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: path, options: .atomic)
        } catch {
            throw .output("cannot write \(path.path): \(error.localizedDescription)")
        }
    }
}
