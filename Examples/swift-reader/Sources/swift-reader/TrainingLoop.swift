import Foundation
import Hounsfield

/// The loop a trainer runs: draw, read, pad, stack into a batch, hand it on. Here "hand it on" prints one line per
/// batch; in a real loop the batch's contiguous `[Float32]` goes to the framework as a (batch, 1, z, y, x) tensor.
struct TrainingLoop {
    var keys: [String]
    var sampler: PatchSampler
    var sampling: SamplingOptions

    init(keys: [String], shapes: [[Int]], sampling: SamplingOptions) {
        self.keys = keys
        self.sampler = PatchSampler(shapes: shapes, sampling: sampling)
        self.sampling = sampling
    }

    /// Runs the batches. `read` returns the region (start, size: z, y, x) of volume `index` with its geometry; it is
    /// the only part that differs between shards and volumes held in memory.
    mutating func run(read: (_ index: Int, _ start: [Int], _ size: [Int]) throws -> Volume<Float32>) throws {
        let sizeText = sampling.mode == .patch
            ? "\(sampling.patchSize.map(String.init).joined(separator: "×")) voxels (z×y×x)"
            : "\(sampling.slabSlices) slices"
        print("\n\(sampling.mode.plural) of \(sizeText), \(sampling.batches) batches of \(sampling.batchSize), seed \(sampling.seed)")
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        var voxelsRead = 0
        for number in 0..<sampling.batches {
            var patches: [Volume<Float32>] = []
            var first: (key: String, start: [Int])?
            for _ in 0..<sampling.batchSize {
                let draw = sampler.next()
                let started = clock.now
                let region = try read(draw.volume, draw.start, draw.size)
                elapsed += clock.now - started
                voxelsRead += region.size.voxelCount
                patches.append(padded(region, to: draw.paddedSize))
                if first == nil { first = (keys[draw.volume], draw.start) }
            }
            print(summary(of: number, patches, first: first!))
        }
        let seconds = elapsed.inSeconds
        let count = sampling.batches * sampling.batchSize
        print("read \(count) \(sampling.mode.plural) (\(format("%.2f", Double(voxelsRead * 4) / 1e6)) MB as float32) in "
              + "\(format("%.3f", seconds)) s: \(format("%.0f", Double(count) / max(seconds, 1e-9))) per second")
    }

    /// Pads at the high end, as the Python reader does, so the volume's voxel (0, 0, 0) stays where the patch starts
    /// and the geometry still holds. `CropBox` takes (x, y, z).
    private func padded(_ region: Volume<Float32>, to size: [Int]) -> Volume<Float32> {
        guard region.size.array != [size[2], size[1], size[0]] else { return region }
        return CropBox(start: [0, 0, 0], size: [size[2], size[1], size[0]]).extract(from: region, fill: sampling.padValue)
    }

    /// One line per batch: its shape, its values, and where its first patch lies (the geometry travels with it).
    private func summary(of number: Int, _ patches: [Volume<Float32>], first: (key: String, start: [Int])) -> String {
        // Patches of one size stack into one (batch, 1, z, y, x) array; slabs of volumes of different in-plane
        // sizes stay a list, as the Python reader's `collate` returns them.
        let sizes = Set(patches.map(\.size))
        let shape = sizes.count == 1
            ? "[\(patches.count), 1, \(patches[0].size.z), \(patches[0].size.y), \(patches[0].size.x)]"
            : patches.map { "[1, \($0.size.z), \($0.size.y), \($0.size.x)]" }.joined(separator: " ")
        let batch = patches.flatMap(\.voxels)
        let mean = batch.reduce(0.0) { $0 + Double($1) } / Double(batch.count)
        let origin = patches[0].geometry.origin
        let values = format("min %.3f  mean %.3f  max %.3f", Double(batch.min()!), mean, Double(batch.max()!))
        let place = format("(%.1f, %.1f, %.1f) mm LPS", origin.x, origin.y, origin.z)
        return "batch \(number)  \(shape)  \(values)  first: \(first.key.prefix(8))… at voxel \(first.start) (z, y, x) = \(place)"
    }
}
