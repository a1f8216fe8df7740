import ArgumentParser
import Foundation
import Hounsfield

/// What `hounsfield run` wrote for the same study: its manifest (key → checksum) and its configuration key. Equal
/// checksums mean equal voxels, found without opening a shard.
struct BatchComparison {
    let folder: OutputFolder
    let entries: [String: ManifestEntry]
    /// `configuration.json`'s key: the run's processing (filters, loading, chain, dtype, the salt's hash).
    let configurationKey: String?

    init(folder path: String) throws {
        folder = OutputFolder(URL(fileURLWithPath: path))
        let manifest = folder.manifestEntries().entries
        guard !manifest.isEmpty else { throw ValidationError("--compare: \(path) lists no volumes: give a `hounsfield run` output folder") }
        entries = Dictionary(manifest.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        let recorded = FileManager.default.contents(atPath: folder.url.appendingPathComponent("configuration.json").path)
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        configurationKey = recorded?["configuration_key"] as? String
    }

    /// Whether the batch run stored these exact voxels, and a sentence that says so or why not.
    func check(_ volume: ProcessedVolume) -> (same: Bool, message: String) {
        if let configurationKey, configurationKey != volume.metadata.configurationKey {
            return (false, "used another configuration (key \(configurationKey.prefix(12))…, this call's \(volume.metadata.configurationKey.prefix(12))…): give the run's flags, --config and --salt")
        }
        guard let entry = entries[volume.key] else {
            return (false, "has no volume \(volume.key) in \(folder.path) (another study, or another salt)")
        }
        guard entry.checksum == volume.image.checksum else {
            return (false, "stored other voxels: \(entry.shard) has \(entry.checksum)")
        }
        return (true, "same checksum as \(entry.shard) in \(folder.path)")
    }
}
