import Foundation
import Hounsfield
import Testing

/// Round trips through real DICOM files the suite writes itself: values are known exactly.
@Suite("Synthetic series")
struct SyntheticSeriesTests {
    @Test("every transfer syntax decodes to exactly the values written", arguments: SyntheticTransferSyntax.allCases)
    func roundTrip(_ syntax: SyntheticTransferSyntax) async throws {
        let folder = TestSupport.temporaryFolder("roundtrip-\(syntax.rawValue)")
        defer { TestSupport.remove(folder) }
        let synthetic = TestSupport.small(syntax)
        try synthetic.write(to: folder)
        let scan = try await SeriesScanner().scan([folder])
        #expect(scan.excluded.isEmpty)
        let series = try #require(scan.series.first)
        #expect(series.transferSyntaxes == [syntax.uid])
        #expect(series.size == GridSize(x: 48, y: 48, z: 8))
        #expect(close(series.geometry.spacing.array, [0.8, 0.8, 2.5], tolerance: 1e-6))
        #expect(series.geometry.direction == .identity)
        #expect(close(series.geometry.origin.array, synthetic.position(ofSlice: 0).array, tolerance: 1e-5))

        let raw = try await series.loadVolume(.asAcquired)
        #expect(raw.voxels == synthetic.expectedHounsfield())

        // Default loading maps padding (stored −2000 → −3024 HU) to air.
        let loaded = try await series.loadVolume()
        let expectedAir = synthetic.expectedHounsfield().map { $0 == -3024 ? -1024 : $0 }
        #expect(loaded.voxels == expectedAir)
    }

    /// A run holds every planned series' descriptor until the series is done: the values its images repeat are
    /// stored once (the first image's), not once per file, and they read the same.
    @Test("a descriptor's images share the texts they repeat")
    func imagesShareRepeatedTexts() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        try TestSupport.small().write(to: folder)
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        #expect(series.images.count == 8)
        func storage(_ text: String?) -> UnsafeRawPointer? {
            var copy = text
            return copy?.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        let first = series.images[0]
        for image in series.images.dropFirst() {
            #expect(image.studyInstanceUID == first.studyInstanceUID)
            #expect(image.seriesInstanceUID == first.seriesInstanceUID)
            #expect(image.transferSyntaxUID == first.transferSyntaxUID)
            #expect(image.imageType == first.imageType)
            // UIDs are longer than 15 bytes, so each has storage of its own unless shared.
            #expect(storage(image.studyInstanceUID) == storage(first.studyInstanceUID))
            #expect(storage(image.seriesInstanceUID) == storage(first.seriesInstanceUID))
            #expect(storage(image.frameOfReferenceUID) == storage(first.frameOfReferenceUID))
            #expect(storage(image.sopInstanceUID) != storage(first.sopInstanceUID))
        }
    }

    /// Shared values are copied on write: changing one image's changes no other image's.
    @Test("changing a shared value of one header leaves the others as they were")
    func sharedValuesCopyOnWrite() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        try TestSupport.small().write(to: folder)
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        var changed = series.images[0]
        changed.rows = 7
        changed.seriesDescription = "changed"
        #expect(changed.rows == 7 && changed.seriesDescription == "changed")
        #expect(series.images[0].rows == 48 && series.images[1].rows == 48)
        #expect(series.images[0].seriesDescription != "changed" && series.images[1].seriesDescription != "changed")
        #expect(changed.columns == series.images[0].columns && changed.studyInstanceUID == series.images[0].studyInstanceUID)
    }

    /// A run's waiting series are trimmed; what they decode to must not change, nor what a report says of them.
    @Test("a series trimmed for decoding decodes to the same voxels and describes itself the same", arguments: [
        SyntheticTransferSyntax.explicit, .jpegLossless,
    ])
    func trimmedDecodesTheSame(_ syntax: SyntheticTransferSyntax) async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        try TestSupport.small(syntax).write(to: folder)
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        let trimmed = series.trimmedForDecoding()
        #expect(trimmed.images.allSatisfy { $0.sopInstanceUID == nil })
        #expect(trimmed.images.map(\.frames.count) == series.images.map(\.frames.count))
        #expect(trimmed.slices == series.slices && trimmed.fileCount == series.fileCount)
        #expect(trimmed.transferSyntaxes == series.transferSyntaxes && trimmed.sopClassUIDs == series.sopClassUIDs)
        #expect(trimmed.pixelPadding == series.pixelPadding)
        #expect(try await trimmed.loadVolume().voxels == series.loadVolume().voxels)
        #expect(try await trimmed.loadVolume(.asAcquired).voxels == series.loadVolume(.asAcquired).voxels)
    }

    @Test("sorting follows positions, not file names")
    func shuffledNames() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        var synthetic = TestSupport.small()
        synthetic.shuffleNames = true
        try synthetic.write(to: folder)
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        let volume = try await series.loadVolume(.asAcquired)
        #expect(volume.voxels == synthetic.expectedHounsfield())
    }

    @Test("a file without preamble and file meta information decodes like the original")
    func noPreamble() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let synthetic = TestSupport.small(.implicit, slices: 1)
        let path = try synthetic.write(to: folder + "/with-meta")[0]
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Group length (0002,0000) is the first meta element: its UL value says where the data set starts.
        let metaLength = Int(bytes[140]) | Int(bytes[141]) << 8 | Int(bytes[142]) << 16 | Int(bytes[143]) << 24
        let bare = Array(bytes[(144 + metaLength)...])
        #expect(bare[0] == 0x08 && bare[1] == 0x00)
        try FileManager.default.createDirectory(atPath: folder + "/bare", withIntermediateDirectories: true)
        try Data(bare).write(to: URL(fileURLWithPath: folder + "/bare/slice.dcm"))
        let series = try #require(try await SeriesScanner().scan([folder + "/bare"]).series.first)
        #expect(series.images[0].hasPreamble == false)
        let volume = try await series.loadVolume(.asAcquired)
        #expect(volume.voxels == synthetic.expectedHounsfield())
    }

    @Test("in-memory buffers give the same volume as the files")
    func inMemory() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let paths = try TestSupport.small(.jpegLossless).write(to: folder)
        let buffers = try paths.map { (name: URL(fileURLWithPath: $0).lastPathComponent, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))) }
        let fromMemory = try #require(await SeriesScanner().scan(buffers: buffers).series.first)
        let fromFiles = try #require(try await SeriesScanner().scan([folder]).series.first)
        let a = try await fromMemory.loadVolume(), b = try await fromFiles.loadVolume()
        #expect(a == b)
    }

    @Test("two acquisitions under one SeriesInstanceUID become two volumes, explained")
    func repeatedPositionsSplit() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        for acquisition in 1...2 {
            var synthetic = TestSupport.small(slices: 5)
            synthetic.seriesInstanceUID = "2.25.1234"
            synthetic.acquisitionNumber = acquisition
            synthetic.seed = UInt64(acquisition)
            try synthetic.write(to: folder + "/acq\(acquisition)")
        }
        let scan = try await SeriesScanner().scan([folder])
        #expect(scan.series.map(\.key) == ["2.25.1234#acquisition-1", "2.25.1234#acquisition-2"])
        #expect(scan.series.allSatisfy { $0.size.z == 5 })
        #expect(scan.series[1].notes.contains { $0.contains("AcquisitionNumber 2") })
    }

    @Test("a copied file is a duplicate, reported once")
    func duplicateFile() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let paths = try TestSupport.small(slices: 4).write(to: folder)
        try FileManager.default.copyItem(atPath: paths[2], toPath: folder + "/copy-of-3.dcm")
        let scan = try await SeriesScanner().scan([folder])
        #expect(scan.series.count == 1 && scan.series[0].size.z == 4)
        #expect(scan.excluded.map(\.kind) == [.duplicate])
        #expect(scan.series[0].warnings.contains { $0.kind == .duplicateSlices })
    }

    @Test("a missing slice is detected and, by default, interpolated onto even spacing")
    func missingSlice() async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let paths = try TestSupport.small(slices: 8).write(to: folder)
        try FileManager.default.removeItem(atPath: paths[4])
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        #expect(series.warnings.contains { $0.kind == .missingSlices && $0.value == 1 })
        #expect(series.warnings.contains { $0.kind == .nonUniformSpacing })
        let volume = try await series.loadVolume()
        #expect(volume.size.z == 8)
        #expect(abs(volume.geometry.spacing.z - 2.5) < 1e-6)
        let split = try await SeriesScanner(options: ScanOptions(spacing: .split)).scan([folder])
        #expect(split.series.map(\.size.z) == [4, 3])
    }

    @Test("gantry tilt: measured from positions, and corrected onto the table-aligned grid", arguments: [12.0, -20.0])
    func tilt(_ degrees: Double) async throws {
        let folder = TestSupport.temporaryFolder()
        defer { TestSupport.remove(folder) }
        let synthetic = SyntheticSeries(size: 64, slices: 24, spacing: Vector3(1, 1, 2), syntax: .explicit,
                                        tiltDegrees: degrees)
        try synthetic.write(to: folder)
        let series = try #require(try await SeriesScanner().scan([folder]).series.first)
        let measured = try #require(series.warnings.first { $0.kind == .gantryTilt }?.value)
        #expect(abs(measured - abs(degrees)) < 0.01)
        let volume = try await series.loadVolume()
        #expect(close(volume.geometry.direction.rowMajor, Direction.identity.rowMajor, tolerance: 1e-9))
        #expect(abs(volume.geometry.spacing.z - 2) < 1e-9)
        // Inside the acquired slab, the corrected voxel equals the phantom there, up to interpolation error.
        var errors: [Double] = []
        for k in stride(from: 4, to: volume.size.z - 4, by: 3) {
            for j in stride(from: 8, to: volume.size.y - 8, by: 5) {
                for i in stride(from: 8, to: volume.size.x - 8, by: 5) {
                    let point = volume.geometry.point(atIndex: Vector3(Double(i), Double(j), Double(k)))
                    let value = Double(volume[i, j, k])
                    guard value > -1024 else { continue }
                    errors.append(abs(value - Double(synthetic.phantom.hounsfield(at: point))))
                }
            }
        }
        #expect(errors.count > 100)
        let sorted = errors.sorted()
        // Median error is noise-level (the phantom's noise is ±20 HU); edges of organs produce the tail.
        #expect(sorted[sorted.count / 2] < 25)
    }
}
