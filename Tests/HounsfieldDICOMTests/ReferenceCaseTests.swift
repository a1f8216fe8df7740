import Foundation
import Hounsfield
import Testing

/// The real CT cases in ../shared/testdata against their reference.json (SimpleITK 2.5.7 / GDCM, dcm2niix).
@Suite("Reference cases")
struct ReferenceCaseTests {
    struct ImageCase: CustomTestStringConvertible, Sendable {
        let folder: String
        let file: String
        var testDescription: String { "\(folder)/\(file)" }
    }

    static let imageCases: [ImageCase] = {
        ["syntax-set", "multiframe-set"].flatMap { folder in
            let reference = (try? TestSupport.reference(folder))?["images"] as? [[String: Any]] ?? []
            return reference.compactMap { image -> ImageCase? in
                guard image["simpleitk"] != nil, let file = image["file"] as? String else { return nil }
                return ImageCase(folder: folder, file: file)
            }
        }
    }()

    @Test("every image decodes to SimpleITK's HU hash with its geometry", arguments: imageCases)
    func image(_ testCase: ImageCase) async throws {
        let images = try TestSupport.reference(testCase.folder)["images"] as! [[String: Any]]
        let reference = images.first { $0["file"] as? String == testCase.file }!
        let expected = reference["simpleitk"] as! [String: Any]
        let scan = try await SeriesScanner().scan([TestSupport.testdata("\(testCase.folder)/\(testCase.file)")])
        #expect(scan.excluded.isEmpty, "\(scan.excluded)")
        let series = try #require(scan.series.first)
        var volume = try await series.loadVolume(.asAcquired)
        var spacing = reference["spacing"] as! [Double]
        let origin = reference["origin"] as! [Double]
        let direction = reference["direction"] as! [Double]

        switch testCase.file {
        case "eCT_Supplemental.dcm":
            // SimpleITK keeps this file's frame order, whose positions run against row × column, and reports a
            // left-handed direction. We keep one convention (k grows along the normal, det +1), so our k axis is
            // reversed: flip it back and compare the same voxels in the same places.
            #expect(abs(series.geometry.direction.determinant - 1) < 1e-9)
            #expect(close(series.geometry.direction.rowMajor, [-1, 0, 0, 0, 1, 0, 0, 0, -1]))
            volume = try Orient("RPS").apply(to: volume)  // x → R and y → P as stored, z flipped to run toward S
        case let file where file.hasPrefix("emri_small"):
            // No positions at all: we stack at SpacingBetweenSlices (1.2 mm, the only spacing the file states);
            // SimpleITK falls back to 1 mm.
            #expect(series.warnings.contains { $0.kind == .assumedGeometry })
            spacing[2] = 1.2
        default:
            break
        }
        #expect(volume.size.array == reference["size"] as! [Int])
        #expect(close(volume.geometry.spacing.array, spacing), "spacing \(volume.geometry.spacing.array)")
        #expect(close(volume.geometry.origin.array, origin), "origin \(volume.geometry.origin.array)")
        #expect(close(volume.geometry.direction.rowMajor, direction))
        #expect(TestSupport.sha256(volume) == expected["sha256"] as! String)
        let statistics = VoxelStatistics(of: volume)
        #expect(statistics.minimum == expected["min"] as! Double)
        #expect(statistics.maximum == expected["max"] as! Double)
    }

    @Test("the GE tilted, unevenly spaced head CT matches SimpleITK as acquired")
    func tiltedHead() async throws {
        let reference = (try TestSupport.reference("ct-ge-tilt-varspacing")["series"] as! [[String: Any]])[0]
        let scan = try await SeriesScanner().scan([TestSupport.testdata("ct-ge-tilt-varspacing")])
        #expect(scan.excluded.map { URL(fileURLWithPath: $0.file).lastPathComponent } == ["reference.json"])
        let series = try #require(scan.series.first)
        #expect(scan.series.count == 1)
        #expect(series.seriesInstanceUID == reference["series_uid"] as! String)
        #expect(series.fileCount == 28)
        #expect(series.size.array == reference["size"] as! [Int])
        #expect(close(series.geometry.spacing.array, reference["spacing"] as! [Double]))
        #expect(close(series.geometry.origin.array, reference["origin"] as! [Double]))
        #expect(close(series.geometry.direction.rowMajor, reference["direction"] as! [Double]))
        let kinds = Set(series.warnings.map(\.kind))
        #expect(kinds == [.gantryTilt, .nonUniformSpacing, .pixelPadding])
        // dcm2niix notes "Instance Number order is not spatial" here, but sorted along the normal the numbers run
        // 1…28 in order; our check (neither ascending nor descending) rightly stays quiet.
        #expect(series.slices.compactMap(\.instanceNumber) == Array(1...28))
        let tilt = try #require(series.warnings.first { $0.kind == .gantryTilt }?.value)
        #expect(abs(tilt - 18.5) < 0.05)

        let stack = try await series.loadVolume(.asAcquired)
        #expect(TestSupport.sha256(stack) == (reference["hu"] as! [String: Any])["sha256"] as! String)
    }

    @Test("by default the tilted head is corrected onto an orthogonal, evenly spaced grid")
    func tiltCorrection() async throws {
        let series = try #require(try await SeriesScanner().scan([TestSupport.testdata("ct-ge-tilt-varspacing")]).series.first)
        let grid = try series.plannedGrid(for: LoadOptions())
        #expect(grid.method == .orthogonalGrid)
        try grid.geometry.validate()
        #expect(abs(grid.geometry.direction.determinant - 1) < 1e-9)
        #expect(grid.corrections.count == 2)
        let volume = try await series.loadVolume()
        #expect(volume.size == grid.size)
        let statistics = VoxelStatistics(of: volume)
        // Padding (−1500) became air and nothing is invented outside the acquired range of HU.
        #expect(statistics.minimum >= -1024)
        #expect(statistics.maximum <= 2121)
        #expect(statistics.mean.isFinite)

        await #expect(throws: DICOMError.self) { try await series.loadVolume(LoadOptions(tilt: .reject)) }
        await #expect(throws: DICOMError.self) { try await series.loadVolume(LoadOptions(tilt: .keep, spacing: .reject)) }
        let evened = try series.plannedGrid(for: LoadOptions(tilt: .keep))
        #expect(evened.method == .evenSlices(spacing: evened.geometry.spacing.z))
    }
}
