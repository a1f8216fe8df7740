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

    /// The NIfTI files of a scan (discovery lists them as not DICOM) that could be label maps: integer voxels, one
    /// volume, a readable file. Each NIfTI file of the scan is read once here (label maps are small; a NIfTI image
    /// among the inputs costs one read), and a paired one again when decoded.
    static func candidates(in scan: ScanResult) -> [NIfTILabelSource] {
        labelMaps(in: scan) { source, _ in source }
    }

    /// `transform` of each candidate and the image it was read from, one file at a time, so that a caller that
    /// needs the voxels too (`inspect`, for the classes) does not read the file again; nil results are left out.
    static func labelMaps<Result>(
        in scan: ScanResult, _ transform: (NIfTILabelSource, NIfTIImage) -> Result?
    ) -> [Result] {
        scan.excluded.compactMap { excluded -> Result? in
            let file = excluded.file
            guard excluded.kind == .notDICOM, file.hasSuffix(".nii") || file.hasSuffix(".nii.gz"),
                  let image = try? NIfTIImage(contentsOf: file), image.header.dataType.isInteger,
                  image.volumeCount == 1
            else { return nil }
            return transform(NIfTILabelSource(file: file, size: image.size, geometry: image.geometry), image)
        }
    }

    func labels(_ series: SeriesDescriptor) -> Bool {
        let folder = (file as NSString).deletingLastPathComponent
        let seriesFolders = Set(series.images.map { ($0.source.name as NSString).deletingLastPathComponent })
        guard seriesFolders.contains(where: { $0 == folder || ($0 as NSString).deletingLastPathComponent == folder }) else {
            return false
        }
        let ours = Self.corners(size, geometry), theirs = Self.corners(series.size, series.geometry)
        let tolerance = 0.5 * min(geometry.spacing.x, geometry.spacing.y, geometry.spacing.z)
        return theirs.allSatisfy { corner in ours.contains { ($0 - corner).length <= tolerance } }
    }

    func segments(on series: SeriesDescriptor) throws -> DecodedLabels {
        let image = try NIfTIImage(contentsOf: file)
        let placement = try image.labelPlacement(onto: series.size, geometry: series.geometry)
        let names = image.labelNames
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

extension ScanResult {
    /// Every label object of the scan a series can be paired with: DICOM SEG and RTSTRUCT objects (paired by the
    /// UIDs they reference) and NIfTI label maps (paired by folder and grid, see ``NIfTILabelSource``).
    var labelSources: [any LabelSource] {
        labelObjects as [any LabelSource] + NIfTILabelSource.candidates(in: self)
    }
}
