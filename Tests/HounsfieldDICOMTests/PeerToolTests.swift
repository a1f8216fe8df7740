import Foundation
import Hounsfield
import Testing

/// Cases made with DCMTK's command-line tools (installed by scripts/setup.sh): an independent writer and decoder.
@Suite("Files made by DCMTK's tools")
struct PeerToolTests {
    @Test("baseline JPEG decodes through TurboJPEG to exactly what DCMTK's IJG decoder gives")
    func baselineJPEG() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        try run("dcmconv", "+te", TestSupport.testdata("syntax-set/image_dfl.dcm"), folder + "/plain.dcm")
        try FileManager.default.createDirectory(atPath: folder + "/jpeg", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/decoded", withIntermediateDirectories: true)
        try run("dcmcjpeg", "+eb", folder + "/plain.dcm", folder + "/jpeg/baseline.dcm")
        try run("dcmdjpeg", folder + "/jpeg/baseline.dcm", folder + "/decoded/by-dcmtk.dcm")

        let jpeg = try #require(try await SeriesScanner().scan([folder + "/jpeg"]).series.first)
        #expect(jpeg.transferSyntaxes == ["1.2.840.10008.1.2.4.50"])
        let reference = try #require(try await SeriesScanner().scan([folder + "/decoded"]).series.first)
        let ours = try await jpeg.loadVolume(.asAcquired), theirs = try await reference.loadVolume(.asAcquired)
        #expect(ours.voxels == theirs.voxels)
        // Lossy, so not the original — but close to it.
        let original = try #require(try await SeriesScanner().scan([folder + "/plain.dcm"]).series.first)
        let source = try await original.loadVolume(.asAcquired)
        let meanError = zip(ours.voxels, source.voxels).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(source.voxels.count)
        #expect(meanError < 4)
    }

    @Test("a DICOMDIR is recognised and skipped with its reason; the images it lists are scanned")
    func dicomdir() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let paths = try TestSupport.small(slices: 2).write(to: folder + "/staging")
        try FileManager.default.createDirectory(atPath: folder + "/media/IMAGES", withIntermediateDirectories: true)
        for (index, path) in paths.enumerated() {
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/media/IMAGES/IM\(index + 1)")
        }
        try run("dcmmkdir", "--general-purpose", "--input-directory", folder + "/media", "--output-file",
                folder + "/media/DICOMDIR", "IMAGES/IM1", "IMAGES/IM2")
        let scan = try await SeriesScanner().scan([folder + "/media"])
        #expect(scan.series.count == 1 && scan.series[0].size.z == 2)
        let exclusion = try #require(scan.excluded.first)
        #expect(exclusion.kind == .directoryIndex && exclusion.file.hasSuffix("DICOMDIR"))
    }

    @Test("a slice in another orientation inside a series is dropped as a localizer, with its reason")
    func localizerByOrientation() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        var axial = TestSupport.small(slices: 6)
        axial.seriesInstanceUID = "2.25.42"
        try axial.write(to: folder + "/axial")
        var scout = SyntheticSeries(size: 48, slices: 1, spacing: Vector3(0.8, 0.8, 2.5), tiltDegrees: 90, seed: 7)
        scout.seriesInstanceUID = "2.25.42"
        scout.acquisitionNumber = 2
        try scout.write(to: folder + "/scout")
        let scan = try await SeriesScanner().scan([folder])
        #expect(scan.series.count == 1)
        #expect(scan.series[0].size.z == 6)
        #expect(scan.series[0].warnings.allSatisfy { $0.kind != .gantryTilt })
        let exclusion = try #require(scan.excluded.first)
        #expect(exclusion.kind == .localizer)
        #expect(exclusion.reason.contains("not parallel"))
        #expect(scan.series[0].excluded == [exclusion])
    }

    private func run(_ tool: String, _ arguments: String...) throws { try TestSupport.run(tool, arguments) }
}
