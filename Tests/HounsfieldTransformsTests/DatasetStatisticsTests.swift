import Foundation
import Hounsfield
import Testing

@Suite("Dataset statistics and stacked windows")
struct DatasetStatisticsTests {
    static func volume(seed: UInt64, size: GridSize = GridSize(x: 30, y: 20, z: 9)) -> Volume<Float32> {
        var generator = SplitMix64(seed: seed)
        let voxels = (0..<size.voxelCount).map { _ in Float32(Int(generator.next() % 3000) - 1024) }
        return Volume(voxels: voxels, size: size, geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
    }

    /// numpy's default percentile (linear interpolation between order statistics), written out.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = p / 100 * Double(sorted.count - 1)
        let below = Int(rank.rounded(.down)), fraction = rank - Double(below)
        return sorted[below] + fraction * (sorted[min(below + 1, sorted.count - 1)] - sorted[below])
    }

    @Test("streaming foreground statistics over several volumes equal the statistics of all voxels at once")
    func streaming() throws {
        let volumes = (1...3).map { Self.volume(seed: $0) }
        var statistics = DatasetStatistics()
        var split = (DatasetStatistics(), DatasetStatistics())
        for (index, volume) in volumes.enumerated() {
            try statistics.add(volume)
            if index == 0 { try split.0.add(volume) } else { try split.1.add(volume) }
        }
        split.0.merge(split.1)
        let foreground = volumes.flatMap(\.voxels).map(Double.init).filter { $0 > -500 }.sorted()
        let mean = foreground.reduce(0, +) / Double(foreground.count)
        let std = (foreground.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(foreground.count)).squareRoot()
        for result in [statistics, split.0] {
            #expect(result.count == foreground.count)
            #expect(abs(result.mean - mean) < 1e-9)
            #expect(abs(result.standardDeviation - std) < 1e-6)
            for p in [0.5, 25, 50, 99.5] { #expect(abs(result.percentile(p) - Self.percentile(foreground, p)) < 1e-9) }
        }
        let normalize = statistics.nnUNetCT
        #expect(normalize.lower == Self.percentile(foreground, 0.5) && normalize.upper == Self.percentile(foreground, 99.5))
    }

    @Test("with a label, the foreground is the labelled voxels")
    func labelled() throws {
        let volume = Self.volume(seed: 9)
        var label = volume
        label.voxels = volume.voxels.indices.map { $0 % 3 == 0 ? 1 : 0 }
        var statistics = DatasetStatistics()
        try statistics.add(volume, label: label)
        let chosen = volume.voxels.indices.filter { $0 % 3 == 0 }.map { Double(volume.voxels[$0]) }
        #expect(statistics.count == chosen.count)
        #expect(abs(statistics.mean - chosen.reduce(0, +) / Double(chosen.count)) < 1e-9)
    }

    @Test("several windows stack as channels (C, z, y, x)")
    func stack() throws {
        let volume = Self.volume(seed: 4)
        let stack = try Window.stack([Window(.brain, output: .unit), Window(.subdural, output: .unit), Window(.bone, output: .unit)], on: volume)
        #expect(stack.channels.count == 3 && stack.voxels.count == 3 * volume.voxels.count)
        #expect(Array(stack.voxels[volume.voxels.count..<(2 * volume.voxels.count)]) == (try Window(.subdural, output: .unit).apply(to: volume)).voxels)
        #expect(throws: TransformError.self) { try Window.stack([], on: volume) }
    }
}
