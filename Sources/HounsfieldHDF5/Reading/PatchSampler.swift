import HounsfieldCore

/// Where training patches start, chosen as the Python reader's `RandomPatchSampler` chooses them: uniformly inside
/// the volume, or, with probability ``foregroundProbability``, centred on a random labelled voxel — nnU-Net's
/// foreground oversampling (it centres a third of its patches on foreground), without which small structures are
/// seen too rarely to be learnt.
///
/// A sampler draws only from the generator it is given, so a start is a pure function of that generator's state:
/// seed it per worker and epoch for reproducible training.
public struct PatchSampler: Sendable, Hashable {
    /// The share of patches centred on a labelled voxel (0…1) when the volume has labels.
    public var foregroundProbability: Double

    /// A sampler centring `foregroundProbability` of its patches on labels (0: uniform).
    public init(foregroundProbability: Double = 0) {
        self.foregroundProbability = min(max(foregroundProbability, 0), 1)
    }

    /// The start (z, y, x) of a patch of `patchSize` (z, y, x) in a volume of `shape` (z, y, x): centred on one of
    /// `foreground` (from ``ShardReader/foregroundLocations(_:maximum:)``) and kept inside the volume, or uniform.
    /// A patch larger than the volume along an axis starts at 0 there.
    public func start<Generator: RandomNumberGenerator>(
        shape: [Int], patchSize: [Int], foreground: [[Int]], using generator: inout Generator
    ) -> [Int] {
        if foregroundProbability > 0, !foreground.isEmpty, Double.random(in: 0..<1, using: &generator) < foregroundProbability {
            let centre = foreground[Int.random(in: 0..<foreground.count, using: &generator)]
            return (0..<3).map { min(max(0, centre[$0] - patchSize[$0] / 2), max(0, shape[$0] - patchSize[$0])) }
        }
        return (0..<3).map { Int.random(in: 0...max(0, shape[$0] - patchSize[$0]), using: &generator) }
    }
}

extension ShardReader {
    /// The labelled voxels of volume `key` as (z, y, x) indices — any class, in either label layout — thinned to at
    /// most `maximum` by a fixed draw, so the list is the same in every process. Empty when the volume has no label.
    /// Reads the whole label once: keep the result per volume.
    public func foregroundLocations(_ key: String, maximum: Int = 10_000) throws(ShardError) -> [[Int]] {
        let stored = try volume(key)
        guard stored.labelElementType != nil else { return [] }
        let size = stored.size
        var labelled: [Int] = []
        if stored.labels?.layout == .channels {
            var any = [Bool](repeating: false, count: size.voxelCount)
            for channel in try readLabelChannels(key) {
                for index in channel.voxels.indices where channel.voxels[index] != 0 { any[index] = true }
            }
            labelled = any.indices.filter { any[$0] }
        } else {
            // Read as stored, so a whole volume is never converted.
            func nonzero<S: ShardScalar>(_: S.Type) throws(ShardError) -> [Int] {
                let map = try readLabel(key, as: S.self)
                return map.voxels.indices.filter { map.voxels[$0] != .zero }
            }
            labelled = stored.labelElementType == .uint16 ? try nonzero(UInt16.self) : try nonzero(UInt8.self)
        }
        if labelled.count > maximum {
            var generator = SplitMix64(seed: 0)
            labelled.shuffle(using: &generator)
            labelled = Array(labelled.prefix(maximum)).sorted()
        }
        return labelled.map { [$0 / size.voxelsPerSlice, ($0 / size.x) % size.y, $0 % size.x] }
    }
}
