import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Testing

/// Every file of ../shared/testdata/labels-nifti against its reference.json (nibabel 5.4.2, SimpleITK 2.5.7).
@Suite("NIfTI reference files")
struct NIfTIReferenceTests {
    struct FileCase: CustomTestStringConvertible, Sendable {
        let set: String
        let file: String
        var testDescription: String { "\(set)/\(file)" }
    }

    static let files: [FileCase] = ["nibabel-orientation", "totalseg-ct", "totalseg-dicom"].flatMap { set in
        (NIfTITestSupport.set(set)["nifti"] as! [[String: Any]]).map { FileCase(set: set, file: $0["file"] as! String) }
    }

    @Test("geometry within 1e-3 mm of SimpleITK (nibabel for NIfTI-2), header facts as nibabel reads them",
          arguments: files)
    func geometryAndHeader(_ testCase: FileCase) throws {
        let entry = NIfTITestSupport.entry(testCase.set, testCase.file)
        let nibabel = entry["nibabel"] as! [String: Any]
        let image = try NIfTIImage(contentsOf: NIfTITestSupport.path("\(testCase.set)/\(testCase.file)"))
        let header = image.header

        let shape = nibabel["shape"] as! [Int]
        #expect(image.size.array == Array(shape.prefix(3)))
        #expect(image.volumeCount == (shape.count > 3 ? shape[3...].reduce(1, *) : 1))
        #expect(header.version == (nibabel["sizeof_hdr"] as! Int == 540 ? .nifti2 : .nifti1))
        #expect(header.dataType.rawValue == nibabel["datatype_code"] as! Int)
        #expect(header.isBigEndian == (nibabel["dtype"] as! String).hasPrefix(">"))
        #expect(header.voxelOffset == nibabel["data_offset"] as! Int)
        #expect(header.qformCode == nibabel["qform_code"] as! Int)
        #expect(header.sformCode == nibabel["sform_code"] as! Int)
        #expect(header.qfac == nibabel["qfac"] as! Double)
        #expect(NIfTITestSupport.close(header.quaternion, nibabel["quatern_bcd"] as! [Double], 1e-6))
        let extensions = nibabel["extensions"] as! [[String: Any]]
        #expect(header.extensions.map(\.code) == extensions.map { $0["code"] as! Int })
        for (ours, theirs) in zip(header.extensions, extensions) {
            #expect(ours.content.count == theirs["bytes"] as! Int)
            #expect(ours.text.hasPrefix(theirs["starts"] as! String))
        }

        let geometry = image.geometry
        if let sitk = entry["simpleitk"] as? [String: Any], let size = sitk["size"] as? [Int] {
            let rank = size.count
            let direction = sitk["direction"] as! [Double]
            let direction3 = (0..<3).flatMap { row in (0..<3).map { direction[row * rank + $0] } }
            #expect(NIfTITestSupport.close(geometry.origin.array, Array((sitk["origin"] as! [Double]).prefix(3))),
                    "origin \(geometry.origin.array)")
            #expect(NIfTITestSupport.close(geometry.spacing.array, Array((sitk["spacing"] as! [Double]).prefix(3))),
                    "spacing \(geometry.spacing.array)")
            #expect(NIfTITestSupport.close(geometry.direction.rowMajor, direction3, 1e-5),
                    "direction \(geometry.direction.rowMajor)")
        } else {
            let expected = NIfTITestSupport.geometryFromRAS(nibabel["affine_ras"] as! [[Double]])
            #expect(NIfTITestSupport.close(geometry.origin.array, expected.origin.array))
            #expect(NIfTITestSupport.close(geometry.spacing.array, expected.spacing.array))
            #expect(NIfTITestSupport.close(geometry.direction.rowMajor, expected.direction.rowMajor, 1e-5))
        }
        // The RAS affine back from our LPS geometry, against nibabel's, for every file.
        let affine = nibabel["affine_ras"] as! [[Double]]
        for row in 0..<3 {
            #expect(NIfTITestSupport.close(geometry.affineRAS[row], affine[row]), "row \(row) \(geometry.affineRAS[row])")
        }
    }

    @Test("values equal SimpleITK's array as float32 (sha256 over every volume)", arguments: files)
    func values(_ testCase: FileCase) throws {
        let entry = NIfTITestSupport.entry(testCase.set, testCase.file)
        let data = entry["data"] as! [String: Any]
        let image = try NIfTIImage(contentsOf: NIfTITestSupport.path("\(testCase.set)/\(testCase.file)"))
        let all = try image.volumes().flatMap(\.voxels)
        #expect(NIfTITestSupport.sha256(all) == data["sha256"] as! String)
        #expect(Double(all.min()!) == data["min"] as! Double)
        #expect(Double(all.max()!) == data["max"] as! Double)
    }

    @Test("label maps: values, counts and names from the label-table extension",
          arguments: files.filter { NIfTITestSupport.entry($0.set, $0.file)["labels"] != nil })
    func labels(_ testCase: FileCase) throws {
        let entry = NIfTITestSupport.entry(testCase.set, testCase.file)
        let image = try NIfTIImage(contentsOf: NIfTITestSupport.path("\(testCase.set)/\(testCase.file)"))
        let values = try image.labelValues()
        #expect(NIfTITestSupport.sha256(values.voxels.map { UInt8($0) }) == entry["sha256_uint8"] as! String)
        var counts: [String: Int] = [:]
        for value in values.voxels { counts[String(value), default: 0] += 1 }
        #expect(counts == entry["labels"] as! [String: Int])
        let names = image.labelNames
        for (key, name) in entry["label_names_from_extension"] as? [String: String] ?? [:] {
            #expect(names[Int(key)!] == name, "label \(key)")
        }
    }

    @Test("the TotalSegmentator label map lands on its CT (NIfTI, same grid)")
    func totalSegmentatorOnNIfTICT() throws {
        let entry = NIfTITestSupport.entry("totalseg-ct", "example_seg.nii.gz")
        let expected = entry["on_ct_grid"] as! [String: Any]
        let ct = try NIfTIImage(contentsOf: NIfTITestSupport.path("totalseg-ct/example_ct_sm.nii.gz"))
        let labels = try NIfTIImage(contentsOf: NIfTITestSupport.path("totalseg-ct/example_seg.nii.gz"))
        let placement = try labels.labelPlacement(onto: ct.size, geometry: ct.geometry)
        try checkPlacement(placement, expected, names: labels.labelNames,
                           segments: labels.labelSegments(onto: ct.size, geometry: ct.geometry))
    }

    @Test("the flipped-y TotalSegmentator label map lands on its DICOM series (geometry from reference.json)")
    func totalSegmentatorOnDICOM() throws {
        let set = NIfTITestSupport.set("totalseg-dicom")
        let series = (set["ct_series"] as! [[String: Any]])[0]
        let size = series["size"] as! [Int]
        let ctSize = GridSize(x: size[0], y: size[1], z: size[2])
        let ctGeometry = Geometry(
            origin: Vector3(series["origin"] as! [Double]), spacing: Vector3(series["spacing"] as! [Double]),
            direction: Direction(rowMajor: series["direction"] as! [Double]))
        let entry = NIfTITestSupport.entry("totalseg-dicom", "example_seg_dicom.nii.gz")
        let labels = try NIfTIImage(contentsOf: NIfTITestSupport.path("totalseg-dicom/example_seg_dicom.nii.gz"))
        // The NIfTI is LAS: its y axis runs against the DICOM rows.
        #expect(labels.geometry.direction.rowMajor == [1, 0, 0, 0, -1, 0, 0, 0, 1])
        let placement = try labels.labelPlacement(onto: ctSize, geometry: ctGeometry)
        try checkPlacement(placement, entry["on_ct_grid"] as! [String: Any], names: labels.labelNames,
                           segments: placement.segments(names: labels.labelNames))
    }

    @Test("on a shifted, wider grid: nearest voxel, centres outside are background and counted, the offset reported")
    func shiftedGrid() throws {
        let labels = try NIfTIImage(contentsOf: NIfTITestSupport.path("nibabel-orientation/standard.nii.gz"))
        let source = try labels.labelValues()
        var geometry = labels.geometry
        geometry.origin = labels.geometry.point(atIndex: [-1.3, 0, 0])  // target i ↦ source i − 1.3
        let size = GridSize(x: 6, y: 5, z: 7)
        let placement = try labels.labelPlacement(onto: size, geometry: geometry)
        #expect(placement.voxelsOutside == 2 * 5 * 7)  // i = 0 (−1.3) and i = 5 (3.7 → 4) fall outside
        #expect(abs(placement.maximumIndexOffset - 0.3) < 1e-9)
        for z in 0..<7 {
            for y in 0..<5 {
                #expect(placement.values[0, y, z] == 0 && placement.values[5, y, z] == 0)
                for x in 1...4 { #expect(placement.values[x, y, z] == source[x - 1, y, z]) }
            }
        }
    }

    private func checkPlacement(
        _ placement: NIfTILabelPlacement, _ expected: [String: Any], names: [Int: String], segments: [LabelSegment]
    ) throws {
        #expect(placement.voxelsOutside == expected["ct_voxels_outside"] as! Int)
        #expect(placement.maximumIndexOffset < 1e-3, "offset \(placement.maximumIndexOffset)")
        #expect(NIfTITestSupport.sha256(placement.values.voxels.map { UInt8($0) }) == expected["sha256_uint8"] as! String)
        let counts = Dictionary(uniqueKeysWithValues: placement.voxelCounts.map { (String($0.key), $0.value) })
        #expect(counts == expected["labels"] as! [String: Int])
        let perLabel = expected["per_label"] as! [String: [String: Any]]
        #expect(segments.map(\.labelClass.value) == perLabel.keys.map { Int($0)! }.sorted())
        for segment in segments {
            let reference = perLabel[String(segment.labelClass.value)]!
            #expect(segment.voxelCount == reference["voxels"] as! Int)
            #expect(NIfTITestSupport.sha256(segment.mask.voxels) == reference["sha256"] as! String,
                    "label \(segment.labelClass.value)")
            #expect(segment.labelClass.name == names[segment.labelClass.value])
            #expect(segment.mask.geometry == placement.values.geometry)
        }
        // The segments combine into one class-index label map (no overlaps), as the shard writer takes them.
        let map = try LabelMap(segments: segments)
        #expect(map.layout == .classIndex)
        #expect(map.values?.voxels == placement.values.voxels)
    }
}
