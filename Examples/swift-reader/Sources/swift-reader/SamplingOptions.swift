import ArgumentParser

/// What a training loop asks for: patches or slabs, how large, how many, and the seed that makes them reproducible.
/// Shared by both subcommands, so the two sources of volumes are sampled the same way.
struct SamplingOptions: ParsableArguments {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        /// 3-D patches of a fixed size (nnU-Net, MONAI's RandSpatialCrop).
        case patch
        /// Runs of whole slices (2.5-D models).
        case slab

        var plural: String { self == .patch ? "patches" : "slabs" }
    }

    @Option(help: "patch (3-D patches of --patch-size) or slab (--slab-slices whole slices).")
    var mode: Mode = .patch

    // z, y, x: the order of the stored arrays, of `ShardReader.readRegion` and of the Python reader's `patch_size`.
    @Option(help: "Patch size in voxels as z,y,x; padded with --pad-value where a volume is smaller.",
            transform: SamplingOptions.parseSize)
    var patchSize: [Int] = [16, 32, 32]

    @Option(help: "Slices per slab in slab mode.")
    var slabSlices = 4

    @Option(help: "Batches to read.")
    var batches = 4

    @Option(help: "Patches or slabs per batch.")
    var batchSize = 2

    @Option(help: "Seed of the random draws: the same seed gives the same patches.")
    var seed: UInt64 = 0

    @Option(help: "Value of the padding where a patch reaches past the volume (0 suits [0, 1] data; -1024 suits HU).")
    var padValue: Float = 0

    func validate() throws {
        guard patchSize.count == 3, patchSize.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--patch-size takes three positive sizes z,y,x, e.g. 16,32,32")
        }
        guard slabSlices > 0, batches > 0, batchSize > 0 else {
            throw ValidationError("--slab-slices, --batches and --batch-size must be positive")
        }
    }

    static func parseSize(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",")
        let sizes = parts.compactMap { Int($0) }
        guard parts.count == 3, sizes.count == 3 else { throw ValidationError("'\(text)' is not z,y,x, e.g. 16,32,32") }
        return sizes
    }
}
