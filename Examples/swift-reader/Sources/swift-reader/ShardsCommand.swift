import ArgumentParser
import Foundation
import Hounsfield

/// Training data from an output folder of `hounsfield run`: the manifest lists the volumes, the shards give patches.
struct ShardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "List the volumes of a `hounsfield run` output folder and read random patches or slabs from it."
    )

    @Argument(help: "An output folder written by `hounsfield run` (shard-*.h5 and manifest*.jsonl).")
    var folder: String

    @OptionGroup var sampling: SamplingOptions

    func run() throws {
        let output = OutputFolder(URL(fileURLWithPath: folder))
        // The manifest is the index: listing the volumes opens no shard, however many there are. A torn last line
        // (a writer killed mid-append) is skipped and named, never fatal.
        let (entries, unreadable) = output.manifestEntries()
        for line in unreadable { print("skipped unreadable manifest line \(line)") }
        guard !entries.isEmpty else {
            throw ValidationError("\(output.path) lists no volumes: give a folder written by `hounsfield run`")
        }
        let shards = Set(entries.map(\.shard))
        print("\(output.path): \(entries.count) volume(s) in \(shards.count) shard(s)")
        print("key                       shape (z×y×x)  dtype    spacing x, y, z (mm)   shard")
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: "×")
            let spacing = entry.spacing.map { format("%.3f", $0) }.joined(separator: ", ")
            print("\(pad(entry.key, 25)) \(pad(shape, 14)) \(pad(entry.dtype.rawValue, 8)) \(pad(spacing, 22)) \(entry.shard)")
        }

        // One reader per shard, opened on first use and kept: opening an HDF5 file costs more than reading a patch.
        // A reader holds HDF5 handles and is not Sendable: a loader with several workers opens its own in each.
        var readers: [String: ShardReader] = [:]
        // What a shard records beyond the manifest (how the voxels were made), read once per volume, not per patch.
        var stored: [String: StoredVolume] = [:]
        func describe(_ entry: ManifestEntry) throws -> (ShardReader, StoredVolume) {
            let reader = try readers[entry.shard] ?? ShardReader(url: output.url.appendingPathComponent(entry.shard))
            readers[entry.shard] = reader
            let volume = try stored[entry.key] ?? reader.volume(entry.key)
            stored[entry.key] = volume
            return (reader, volume)
        }

        let (_, first) = try describe(entries[0])
        print("\nfirst volume, as its shard describes it:")
        print("  window         \(first.metadata.window.map { "\($0.lowerBound)…\($0.upperBound) HU" } ?? "none")")
        print("  normalization  \(first.metadata.normalization ?? "none")")
        print("  original       \(first.metadata.originalSize.map(\.description) ?? "?") voxels (x×y×z)")
        print("  affine (LPS)   " + first.geometry.affineLPS.map { row in
            "[" + row.map { format("%8.3f", $0) }.joined(separator: " ") + "]"
        }.joined(separator: "\n                 "))

        var loop = TrainingLoop(keys: entries.map(\.key), shapes: entries.map(\.shape), sampling: sampling)
        try loop.run { index, start, size in
            let entry = entries[index]
            let (reader, volume) = try describe(entry)
            var region = sampling.mode == .slab
                ? try reader.readSlab(entry.key, slices: start[0]..<(start[0] + size[0]), as: Float32.self)
                : try reader.readRegion(entry.key, start: start, size: size, as: Float32.self)
            // Integer volumes may be stored as round(value × scale) (`--dtype uint8` of a [0, 1] window with scale
            // 255): divide to get the values back. Floats always have scale 1.
            let scale = Float32(volume.metadata.valueScale)
            if scale != 1 { region.voxels = region.voxels.map { $0 / scale } }
            return region
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
