import HounsfieldCore
import Testing

@Suite("Geometry")
struct GeometryTests {
    @Test("index → point → index is the identity", arguments: [
        Vector3(0, 0, 0), Vector3(10, 20, 30), Vector3(511, 511, 299), Vector3(0.5, 1.25, 7.75),
    ])
    func roundTrip(index: Vector3) {
        let c = 0.9483236465981045, s = 0.3173046821319741
        let geometry = Geometry(
            origin: Vector3(-125, -123.54, 5.84), spacing: Vector3(0.488, 0.488, 5.63),
            direction: Direction(x: [1, 0, 0], y: [0, c, -s], z: [0, s, c]))
        let back = geometry.index(ofPoint: geometry.point(atIndex: index))
        #expect((back - index).length < 1e-9)
    }

    @Test("row-major direction matches SimpleITK's GetDirection() layout")
    func rowMajor() {
        let direction = Direction(rowMajor: [1, 0, 0, 0, 0.948, 0.317, 0, -0.317, 0.948])
        #expect(direction.y == Vector3(0, 0.948, -0.317))
        #expect(direction.z == Vector3(0, 0.317, 0.948))
        #expect(direction.rowMajor == [1, 0, 0, 0, 0.948, 0.317, 0, -0.317, 0.948])
    }

    @Test("affine maps voxel indices to LPS millimetres; RAS negates x and y")
    func affine() {
        let geometry = Geometry(origin: Vector3(1, 2, 3), spacing: Vector3(0.5, 0.5, 2), direction: .identity)
        #expect(geometry.affineLPS[0] == [0.5, 0, 0, 1])
        #expect(geometry.affineLPS[2] == [0, 0, 2, 3])
        #expect(geometry.affineRAS[0] == [-0.5, 0, 0, -1])
        #expect(geometry.affineRAS[2] == [0, 0, 2, 3])
    }

    @Test("invalid geometry is refused with the reason", arguments: [
        Vector3(0, 1, 1), Vector3(1, -1, 1), Vector3(1, 1, .nan), Vector3(1, .infinity, 1),
    ])
    func invalidSpacing(spacing: Vector3) {
        let geometry = Geometry(origin: .zero, spacing: spacing, direction: .identity)
        #expect {
            try geometry.validate()
        } throws: { error in
            if case .invalidSpacing = error as? GeometryError { return true }
            return false
        }
    }
}

@Suite("Voxel statistics")
struct VoxelStatisticsTests {
    @Test("min, max, mean and population std agree with a two-pass computation", arguments: [1, 7, 64])
    func twoPass(slices: Int) {
        let size = GridSize(x: 13, y: 11, z: slices)
        var generator = SplitMix64(seed: UInt64(slices))
        let voxels = (0..<size.voxelCount).map { _ in Float32(Int(generator.next() % 5000) - 3024) + 0.25 }
        let volume = Volume(voxels: voxels, size: size, geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
        let statistics = VoxelStatistics(of: volume)
        let values = voxels.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(statistics.count == values.count)
        #expect(statistics.minimum == values.min())
        #expect(statistics.maximum == values.max())
        #expect(abs(statistics.mean - mean) < 1e-9)
        #expect(abs(statistics.standardDeviation - variance.squareRoot()) < 1e-9)
    }
}
