import Foundation
import Hounsfield
@testable import HounsfieldDICOM
import Testing

/// Every ROI of `labels-rtstruct` rasterized onto its CT series and compared with the exact polygon area, with
/// plastimatch's mask (centre inside: the same rule) and with rt-utils' (boundary pixels included).
@Suite("RTSTRUCT rasterization against plastimatch and rt-utils")
struct StructureSetRasterizationTests {
    static let cases: [(set: String, file: String)] = [
        ("mim-2slice", "rtstruct/invalid_reference_rt.dcm"), ("mim-2slice", "rtstruct/rt.dcm"),
        ("dicompyler-1slice", "rtstruct/rtss.dcm"),
    ]

    @Test("each ROI's mask against the polygon area, plastimatch and rt-utils", arguments: cases)
    func matchesReferences(set: String, file: String) async throws {
        let reference = try #require(
            (try LabelTestSupport.sets("labels-rtstruct")[set]?["rtstruct"] as? [[String: Any]])?.first { $0["file"] as? String == file })
        let (_, label, series) = try await LabelTestSupport.labelObject("labels-rtstruct/" + set, file: file)
        #expect(label.kind == .structureSet)
        #expect(label.referencedSeriesUIDs == reference["referenced_series"] as? [String])
        let decoding = try label.decode(onto: series)
        let rois = reference["rois"] as! [[String: Any]]
        #expect(decoding.segments.count == rois.count)
        for (segment, roi) in zip(decoding.segments, rois) {
            #expect(segment.labelClass.name == roi["name"] as? String)
            #expect(segment.labelClass.properties["roi_number"] == (roi["number"] as? Int).map(String.init))
            #expect(segment.mask.size == series.size && segment.mask.geometry == series.geometry)
            let voxels = segment.voxelCount
            let area = (roi["polygon_area_voxels"] as! [String: Any])["total"] as! Double
            let sha = LabelTestSupport.sha256(segment.mask.voxels)
            var line = "RTSTRUCT \(set)/\(file) ROI \(segment.labelClass.name): \(voxels) voxels, polygon area \(area)"
            if let plastimatch = roi["plastimatch"] as? [String: Any], let rtUtils = roi["rt_utils"] as? [String: Any] {
                let samePlastimatch = sha == plastimatch["sha256"] as? String
                let sameRTUtils = sha == rtUtils["sha256"] as? String
                line += "; plastimatch \(plastimatch["voxels"]!) (identical: \(samePlastimatch)), rt-utils \(rtUtils["voxels"]!) (identical: \(sameRTUtils))"
                // Identical to plastimatch's mask, so Dice with rt-utils' is the reference's plastimatch–rt-utils Dice.
                if samePlastimatch, let dice = plastimatch["dice"] { line += "; Dice vs plastimatch 1.0, vs rt-utils \(dice)" }
            }
            if let plastimatch = roi["plastimatch"] as? [String: Any],
               roi["contours_inside_another_on_same_slice"] as? Int == 0
            {
                // Without nested contours plastimatch applies the same rule: the same voxels, byte for byte.
                #expect(sha == plastimatch["sha256"] as? String, "\(line)")
            }
            print(line)
        }
        print("RTSTRUCT \(set)/\(file) warnings: \(decoding.warnings)")
    }

    @Test("as a class map (what a run asks for), ROIs that do not overlap are the map of their masks; overlapping ones stay masks",
          arguments: cases)
    func classIndexEqualsMasks(set: String, file: String) async throws {
        let (_, masks, compact, combined) = try await LabelTestSupport.decodedBothWays("labels-rtstruct/" + set, file: file)
        if combined.layout == .classIndex {
            #expect(compact.segments.isEmpty && compact.classIndex == combined, "\(file)")
        } else {
            #expect(compact.classIndex == nil && compact.segments == masks.segments, "\(file)")
        }
        print("RTSTRUCT \(set)/\(file) as a class map: \(combined.layout), \(combined.overlappingVoxels) voxels in two ROIs")
    }

    @Test("a nested contour cuts a hole (even-odd), unlike plastimatch; Dice against both tools' masks")
    func nestedContourIsAHole() async throws {
        let (_, label, series) = try await LabelTestSupport.labelObject("labels-rtstruct/mim-2slice", file: "rtstruct/rt.dcm")
        let decoding = try label.decode(onto: series)
        let mask = try #require(decoding.segments.first).mask
        // Centres inside the outer square (x, y in 151.55…200.70 pixels) and not inside the inner octagon:
        // 2401 − 958 voxels, as a brute-force even-odd test per pixel centre counts them.
        #expect(mask.voxels.reduce(0) { $0 + Int($1) } == 1443)
        #expect(decoding.warnings.contains { $0.contains("frame of reference") })
        // The two reference masks, rebuilt from their rules and checked against their hashes: plastimatch fills the
        // outer square (centres inside); rt-utils rounds the vertices, fills the boundary pixels too, and cuts the
        // hole's interior.
        let size = series.size
        var plastimatch = [UInt8](repeating: 0, count: size.voxelCount)
        var rtUtils = plastimatch
        for y in 152...201 {
            for x in 152...201 {
                if x <= 200, y <= 200 { plastimatch[y * size.x + x] = 1 }
                let inHole = (161...189).contains(x) && (161...189).contains(y) && !(x == 161 && y == 161)
                if !inHole { rtUtils[y * size.x + x] = 1 }
            }
        }
        let roi = try #require(
            (try LabelTestSupport.sets("labels-rtstruct")["mim-2slice"]?["rtstruct"] as? [[String: Any]])?
                .first { $0["file"] as? String == "rtstruct/rt.dcm" }?["rois"] as? [[String: Any]])[0]
        #expect(LabelTestSupport.sha256(plastimatch) == (roi["plastimatch"] as? [String: Any])?["sha256"] as? String)
        #expect(LabelTestSupport.sha256(rtUtils) == (roi["rt_utils"] as? [String: Any])?["sha256"] as? String)
        let dicePlastimatch = LabelTestSupport.dice(mask.voxels, plastimatch)
        let diceRTUtils = LabelTestSupport.dice(mask.voxels, rtUtils)
        print("RTSTRUCT mim-2slice/rtstruct/rt.dcm ROI-1: 1443 voxels; Dice vs plastimatch (2401) \(dicePlastimatch), vs rt-utils (1660) \(diceRTUtils)")
        #expect(abs(dicePlastimatch - 2.0 * 1443 / (1443 + 2401)) < 1e-9)
        #expect(diceRTUtils > 0.93 && diceRTUtils < 0.931)
    }

    @Test("a contour reaching outside the image is clipped to it, with a warning that says so")
    func contourOutsideTheImage() async throws {
        let folder = TestSupport.testdata("labels-rtstruct/mim-2slice") + "/"
        var structureSet = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "rtstruct/rt.dcm")))
        // The outer square's first vertex moved from x = −51 mm to −130 mm: 10 pixels left of the image.
        let original = Array("-51.0\\-51.0\\60.0".utf8), moved = Array("-130 \\-51.0\\60.0".utf8)
        let at = try #require(structureSet.firstRange(of: original))
        structureSet.replaceSubrange(at, with: moved)
        let scan = await SeriesScanner().scan(buffers: [
            (name: "ct_1.dcm", bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "ct/ct_1.dcm")))),
            (name: "ct_2.dcm", bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "ct/ct_2.dcm")))),
            (name: "moved.dcm", bytes: structureSet),
        ])
        let label = try #require(scan.labelObjects.first)
        let series = try #require(scan.referencedSeries(of: label))
        let decoding = try label.decode(onto: series)
        #expect(decoding.warnings.contains { $0.contains("ROI 'ROI-1': 1 contour reach") && $0.contains("outside the image") },
                "\(decoding.warnings)")
        let mask = try #require(decoding.segments.first).mask
        // Column 0 is reached, and the mask stays on the grid.
        #expect(mask[0, 153, 0] == 1)
        #expect(mask.size == series.size)
    }

    @Test("an OPEN_PLANAR contour is left out with a warning; the ROI keeps its closed contours")
    func openContourSkipped() async throws {
        let folder = TestSupport.testdata("labels-rtstruct/mim-2slice") + "/"
        var structureSet = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "rtstruct/rt.dcm")))
        // The outer square (the first contour) becomes an open polyline; the inner octagon stays closed.
        let at = try #require(structureSet.firstRange(of: Array("CLOSED_PLANAR ".utf8)))
        structureSet.replaceSubrange(at, with: Array("OPEN_PLANAR   ".utf8))
        let scan = await SeriesScanner().scan(buffers: [
            (name: "ct_1.dcm", bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "ct/ct_1.dcm")))),
            (name: "ct_2.dcm", bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "ct/ct_2.dcm")))),
            (name: "open.dcm", bytes: structureSet),
        ])
        let label = try #require(scan.labelObjects.first)
        let decoding = try label.decode(onto: try #require(scan.referencedSeries(of: label)))
        #expect(decoding.warnings.contains { $0.contains("1 OPEN_PLANAR contour left out") }, "\(decoding.warnings)")
        // Only the octagon is filled: the 958 centres a brute-force even-odd test finds inside it.
        #expect(try #require(decoding.segments.first).voxelCount == 958)
    }
}

/// The scanline fill on its own: exact on shapes whose covered centres are known, and quick enough for 20 ROIs on a
/// 512×512×300 grid.
@Suite("Contour fill")
struct ContourFillTests {
    @Test("squares, a hole, shared edges and a polygon off the image")
    func exactShapes() {
        func fill(_ polygons: [[(x: Double, y: Double)]], width: Int = 16, height: Int = 16) -> [UInt8] {
            var slice = [UInt8](repeating: 0, count: width * height)
            slice.withUnsafeMutableBufferPointer { ContourFill.fill(polygons, width: width, height: height, into: $0) }
            return slice
        }
        func count(_ slice: [UInt8]) -> Int { slice.reduce(0) { $0 + Int($1) } }
        // Centres 2…5 in x and y: a square from 1.5 to 5.5 holds 16.
        let outer = [(x: 1.5, y: 1.5), (5.5, 1.5), (5.5, 5.5), (1.5, 5.5)]
        #expect(count(fill([outer])) == 16)
        // Edges on centres: left and lower edges in, right and upper out — a 2…6 square holds 4×4 centres.
        let onCentres = [(x: 2.0, y: 2.0), (6.0, 2.0), (6.0, 6.0), (2.0, 6.0)]
        let right = [(x: 6.0, y: 2.0), (10.0, 2.0), (10.0, 6.0), (6.0, 6.0)]
        #expect(count(fill([onCentres])) == 16)
        // Two squares sharing an edge share no voxel: 32 together, as two separate ROIs would have.
        #expect(count(fill([onCentres, right])) == 32)
        // A nested square is a hole (even-odd), whatever its orientation.
        let hole = [(x: 2.5, y: 2.5), (2.5, 4.5), (4.5, 4.5), (4.5, 2.5)]
        #expect(count(fill([outer, hole])) == 12)
        // Off the image: clipped, never wrapped to the next row.
        let wide = [(x: -5.0, y: 0.5), (20.0, 0.5), (20.0, 1.5), (-5.0, 1.5)]
        let clipped = fill([wide])
        #expect(count(clipped) == 16 && clipped[16..<32].allSatisfy { $0 == 1 })
    }

    @Test("20 ROIs of 200-point contours on every slice of a 512×512×300 grid")
    func speed() {
        let (width, height, slices) = (512, 512, 300)
        var volume = [UInt8](repeating: 0, count: width * height * slices)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            volume.withUnsafeMutableBufferPointer { buffer in
                for roi in 0..<20 {
                    let centre = (x: 100.0 + Double(roi % 5) * 70, y: 100.0 + Double(roi / 5) * 70)
                    for z in 0..<slices {
                        let radius = 20 + 10 * sin(Double(z) / 30)
                        let circle = (0..<200).map { i -> (x: Double, y: Double) in
                            let angle = Double(i) * 2 * Double.pi / 200
                            return (centre.x + radius * cos(angle), centre.y + radius * sin(angle))
                        }
                        ContourFill.fill([circle], width: width, height: height,
                                         into: UnsafeMutableBufferPointer(rebasing: buffer[z * width * height..<(z + 1) * width * height]))
                    }
                }
            }
        }
        print("ContourFill: 20 ROIs × 300 slices of 512×512 in \(elapsed) (debug build)")
        #expect(volume.contains(1))
    }
}
