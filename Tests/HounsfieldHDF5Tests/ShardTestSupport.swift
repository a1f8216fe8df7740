import Foundation
import Hounsfield
import HounsfieldHDF5

/// Volumes and folders for the shard tests.
enum ShardTestSupport {
    static func temporaryFolder(_ label: String = #function) -> URL {
        let name = "hounsfield-shards-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let geometry = Geometry(
        origin: Vector3(-120.5, -98.25, 310),
        spacing: Vector3(0.75, 0.8, 2.5),
        direction: Direction(x: Vector3(1, 0, 0), y: Vector3(0, 0.8, -0.6), z: Vector3(0, 0.6, 0.8)))

    /// A CT-like volume: air around a body of soft tissue with bone and noise, deterministic per `seed`.
    static func phantom(size: GridSize = GridSize(x: 61, y: 47, z: 23), seed: UInt64 = 1) -> Volume<Float32> {
        var random = SplitMix64(seed: seed)
        let noise = (0..<4096).map { _ in Float32(Double(random.next() % 2001) / 100 - 10) }
        return Volume<Float32>(size: size, geometry: geometry) { buffer in
            for z in 0..<size.z {
                for y in 0..<size.y {
                    for x in 0..<size.x {
                        let dx = Double(x) / Double(size.x) - 0.5, dy = Double(y) / Double(size.y) - 0.5
                        let r = (dx * dx + dy * dy).squareRoot()
                        let base: Float32 = r < 0.2 ? 700 : r < 0.4 ? 40 : -1000
                        let index = x + size.x * (y + size.y * z)
                        buffer[index] = base + noise[(index &* 2_654_435_761) & 4095] + Float32(z)
                    }
                }
            }
        }
    }

    static func label(for image: Volume<Float32>) -> Volume<UInt8> {
        Volume<UInt8>(size: image.size, geometry: image.geometry) { buffer in
            for i in 0..<image.voxels.count { buffer[i] = image.voxels[i] > 300 ? 2 : image.voxels[i] > -200 ? 1 : 0 }
        }
    }

    /// A parcellation on `image`'s grid with class values 1…300 (above what a byte holds), in runs along x.
    static func wideLabels(for image: Volume<Float32>) -> LabelMap {
        let values = Volume<UInt16>(size: image.size, geometry: image.geometry) { buffer in
            for i in 0..<image.voxels.count { buffer[i] = image.voxels[i] > -200 ? UInt16(1 + (i / 7) % 300) : 0 }
        }
        return LabelMap(classIndex: values, classes: (1...300).map { LabelClass(value: $0, name: "region \($0)") })
    }

    static func files(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }
}
