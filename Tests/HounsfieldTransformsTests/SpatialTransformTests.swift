import Foundation
import Hounsfield
import Testing

/// Orientation, crop and pad move voxels without interpolation: every value must keep its patient-space position.
@Suite("Orientation, crop, pad and cast")
struct SpatialTransformTests {
    /// A small volume whose voxel values encode their own index, with an oblique-free but permuted orientation.
    static func indexed(direction: Direction = .identity) -> Volume<Float32> {
        let size = GridSize(x: 7, y: 5, z: 4)
        let voxels = (0..<size.voxelCount).map { Float32($0) }
        return Volume(voxels: voxels, size: size,
                      geometry: Geometry(origin: [10, -20, 30], spacing: [0.5, 0.75, 2], direction: direction))
    }

    /// Every output voxel holds the input voxel found at the same patient-space point.
    static func expectSamePlaces(_ output: Volume<Float32>, _ input: Volume<Float32>) {
        for k in 0..<output.size.z {
            for j in 0..<output.size.y {
                for i in 0..<output.size.x {
                    let point = output.geometry.point(atIndex: Vector3(Double(i), Double(j), Double(k)))
                    let c = input.geometry.index(ofPoint: point)
                    let index = (Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
                    #expect((c - Vector3(Double(index.0), Double(index.1), Double(index.2))).length < 1e-9)
                    #expect(output[i, j, k] == input[index.0, index.1, index.2])
                }
            }
        }
    }

    @Test("reorienting keeps every voxel where it was in patient space", arguments: ["RAS", "LPS", "ASL", "IRP", "SPL"])
    func orient(_ code: String) throws {
        let sagittal = Direction(x: [0, 1, 0], y: [0, 0, -1], z: [-1, 0, 0])
        for input in [Self.indexed(), Self.indexed(direction: sagittal)] {
            let output = try Orient(code).apply(to: input)
            #expect(output.size.voxelCount == input.size.voxelCount)
            #expect(abs(abs(output.geometry.direction.determinant) - 1) < 1e-12)
            Self.expectSamePlaces(output, input)
            let letters = Array(code)
            let axes: [Character: (Int, Double)] = ["L": (0, 1), "R": (0, -1), "P": (1, 1), "A": (1, -1), "S": (2, 1), "I": (2, -1)]
            let columns = [output.geometry.direction.x, output.geometry.direction.y, output.geometry.direction.z]
            for (column, letter) in zip(columns, letters) {
                let (axis, sign) = axes[letter]!
                #expect(column[axis] * sign > 0.99)
            }
        }
    }

    @Test("an invalid orientation code is refused", arguments: ["LP", "LLS", "XYZ", "LPSS"])
    func badCode(_ code: String) {
        #expect(throws: TransformError.self) { try Orient(code).apply(to: Self.indexed()) }
    }

    @Test("crop or pad to a size keeps positions and pads with air", arguments: [
        GridSize(x: 3, y: 5, z: 2), GridSize(x: 10, y: 8, z: 6), GridSize(x: 7, y: 2, z: 9),
    ])
    func cropOrPad(_ size: GridSize) throws {
        let input = Self.indexed()
        let output = try CropOrPad(size: size).apply(to: input)
        #expect(output.size == size)
        for k in 0..<size.z {
            for j in 0..<size.y {
                for i in 0..<size.x {
                    let c = input.geometry.index(ofPoint: output.geometry.point(atIndex: Vector3(Double(i), Double(j), Double(k))))
                    let (x, y, z) = (Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
                    let inside = x >= 0 && y >= 0 && z >= 0 && x < input.size.x && y < input.size.y && z < input.size.z
                    #expect(output[i, j, k] == (inside ? input[x, y, z] : -1024))
                }
            }
        }
        #expect(try CropOrPad(size: size).applyToLabel(input).voxels.contains(-1024) == false)
    }

    @Test("crop to the body uses HU (air is −1000, not 0) and crops the label with the image's box")
    func cropToForeground() throws {
        let size = GridSize(x: 20, y: 16, z: 10)
        var image = Volume<Float32>(repeating: -1000, size: size,
                                    geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
        var label = Volume<Float32>(repeating: 0, size: size, geometry: image.geometry)
        for k in 2...6 { for j in 4...9 { for i in 5...12 { image[i, j, k] = -60; label[i, j, k] = 1 } } }
        image[0, 0, 0] = -900  // lung-like noise in air stays outside a −500 threshold
        let crop = CropToForeground(margin: 1)
        #expect(crop.box(for: image) == CropBox(start: [4, 3, 1], size: [10, 8, 7]))
        let (croppedImage, croppedLabel) = try crop.apply(to: image, label: label)
        #expect(croppedImage.size == GridSize(x: 10, y: 8, z: 7))
        #expect(croppedLabel.voxels.filter { $0 == 1 }.count == label.voxels.filter { $0 == 1 }.count)
        #expect(croppedImage.geometry.origin == Vector3(4, 3, 1))
        #expect(throws: TransformError.self) { try crop.applyToLabel(label) }
        // Composed: the pair goes through every step together (the crop first: it thresholds HU).
        let chain = Compose([crop, Window(minimum: -1000, maximum: 1000, output: .unit)])
        let (composedImage, composedLabel) = try chain.apply(to: image, label: label)
        #expect(composedImage.size == croppedImage.size && composedLabel == croppedLabel)
        // Several labels (channels) move with the one box; a chain with a crop says its labels need the image.
        let (_, both) = try chain.apply(to: image, labels: [label, label])
        #expect(both == [croppedLabel, croppedLabel])
        #expect(chain.labelsNeedImage && crop.labelsNeedImage && !Window(minimum: 0, maximum: 1).labelsNeedImage)
    }

    @Test("cast rounds half away from zero and saturates")
    func cast() {
        let values: [Float32] = [-40000, -1024.5, -0.5, 0.49, 0.5, 1.5, 2.5, 40000, .nan]
        let volume = Volume(voxels: values, size: GridSize(x: values.count, y: 1, z: 1),
                            geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
        #expect(volume.converted(to: Int16.self).voxels == [-32768, -1025, -1, 0, 1, 2, 3, 32767, 0])
        #expect(volume.converted(to: UInt8.self).voxels == [0, 0, 0, 0, 1, 2, 3, 255, 0])
        let unit = Volume<Float32>(voxels: [0, 0.5, 1], size: GridSize(x: 3, y: 1, z: 1), geometry: volume.geometry)
        #expect(unit.converted(to: UInt8.self, scale: 255).voxels == [0, 128, 255])
        #if !(os(macOS) && arch(x86_64))
        let large = Volume<Float32>(voxels: [-1e6, 1e6, .nan, 1.5], size: GridSize(x: 4, y: 1, z: 1), geometry: volume.geometry)
        let half = large.converted(to: Float16.self).voxels
        #expect(half[0] == -65504 && half[1] == 65504 && half[2].isNaN && half[3] == 1.5)
        #endif
    }
}
