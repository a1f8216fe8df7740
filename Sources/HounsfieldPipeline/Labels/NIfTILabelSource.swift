import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldNIfTI

/// A NIfTI label map among a run's inputs, paired with the DICOM series it lies on: TotalSegmentator's and most
/// annotation tools' output beside the CT they were drawn on.
///
/// The pairing rule (decision 57): the file holds integer voxels in one volume, sits in the folder of the series'
/// files or the folder above it (a study folder), and its grid covers the series' grid — every corner voxel centre
/// of the series lies within half a voxel of a corner centre of the label map, so a flipped or permuted copy of the
/// same grid pairs and a label map of another region does not. Its values are then placed on the series by nearest
/// neighbour through patient space (``NIfTILabelPlacement``), exact when the grids coincide.
struct NIfTILabelSource: LabelSource {
    let file: String
    let size: GridSize
    let geometry: Geometry
    /// Class names from outside the file (an nnU-Net `dataset.json`), used where the file's own label table has none.
    var classNames: [Int: String] = [:]

    func labels(_ series: SeriesDescriptor) -> Bool {
        let folder = (file as NSString).deletingLastPathComponent
        let seriesFolders = Set(series.images.map { ($0.source.name as NSString).deletingLastPathComponent })
        guard seriesFolders.contains(where: { $0 == folder || ($0 as NSString).deletingLastPathComponent == folder }) else {
            return false
        }
        return covers(series.size, series.geometry)
    }

    /// Whether this label map lies on a NIfTI image's grid: the file is in `folder` (the image's) and covers the grid.
    func labels(size: GridSize, geometry: Geometry, folder: String) -> Bool {
        (file as NSString).deletingLastPathComponent == folder && covers(size, geometry)
    }

    /// Whether every corner voxel centre of the grid lies within half a voxel of a corner centre of the label map.
    private func covers(_ otherSize: GridSize, _ otherGeometry: Geometry) -> Bool {
        let ours = Self.corners(size, geometry), theirs = Self.corners(otherSize, otherGeometry)
        let tolerance = 0.5 * min(geometry.spacing.x, geometry.spacing.y, geometry.spacing.z)
        return theirs.allSatisfy { corner in ours.contains { ($0 - corner).length <= tolerance } }
    }

    func segments(on series: SeriesDescriptor) throws -> DecodedLabels {
        try segments(on: series.size, geometry: series.geometry)
    }

    func segments(on gridSize: GridSize, geometry gridGeometry: Geometry) throws -> DecodedLabels {
        let image = try NIfTIImage(contentsOf: file)
        let placement = try image.labelPlacement(onto: gridSize, geometry: gridGeometry)
        let names = image.labelNames.merging(classNames) { own, _ in own }
        let classes = placement.voxelCounts.keys.filter { $0 != 0 }.sorted().map {
            LabelClass(value: $0, name: names[$0] ?? "label \($0)")
        }
        var warnings: [String] = []
        if placement.voxelsOutside > 0 {
            warnings.append("\(placement.voxelsOutside) voxels of the series lie outside the label map and are background")
        }
        if placement.maximumIndexOffset > 0.01 {
            warnings.append(String(format: "the label map is not on the series' grid: placed by nearest neighbour (up to %.2f voxel off)", placement.maximumIndexOffset))
        }
        if classes.isEmpty { warnings.append("the label map holds no class (every voxel is 0)") }
        return DecodedLabels(map: LabelMap(classIndex: placement.values, classes: classes), warnings: warnings)
    }

    /// The centres of a grid's eight corner voxels, in patient space.
    private static func corners(_ size: GridSize, _ geometry: Geometry) -> [Vector3] {
        var points: [Vector3] = []
        for z in [0, size.z - 1] { for y in [0, size.y - 1] { for x in [0, size.x - 1] {
            points.append(geometry.point(atIndex: Vector3(Double(x), Double(y), Double(z))))
        } } }
        return points
    }
}
