import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Testing

/// Writing NIfTI-1 and reading it back: same voxels, same geometry through the sform and through the qform alone.
@Suite("NIfTI writer")
struct NIfTIWriterTests {
    static let files = ["totalseg-ct/example_ct_sm.nii.gz", "nibabel-orientation/example4d.nii.gz",
                        "nibabel-orientation/anatomical.nii", "nibabel-orientation/standard.nii.gz"]

    @Test("round trip: voxels equal, geometry within 1e-4 mm by the sform and by the qform alone", arguments: files)
    func roundTrip(_ file: String) throws {
        let folder = NIfTITestSupport.temporaryFolder()
        defer { NIfTITestSupport.remove(folder) }
        let original = try NIfTIImage(contentsOf: NIfTITestSupport.path(file))
        let volume = try original.volume()
        for name in ["out.nii.gz", "out.nii"] {
            let path = folder + "/" + name
            switch original.header.dataType {
            case .uint8: try NIfTIWriter.write(volume.converted(to: UInt8.self), to: path)
            case .int16: try NIfTIWriter.write(volume.converted(to: Int16.self), to: path)
            default: try NIfTIWriter.write(volume, to: path)
            }
            let copy = try NIfTIImage(contentsOf: path)
            #expect(copy.header.dataType == (original.header.dataType == .float32 ? .float32 : original.header.dataType))
            #expect(copy.size == volume.size)
            #expect(try copy.volume().voxels == volume.voxels)
            #expect(copy.orientation.source == .sform)
            try expectClose(copy.geometry, volume.geometry)
            var qformOnly = copy.header
            qformOnly.sformCode = 0
            let byQform = try NIfTIOrientation(header: qformOnly, path: path)
            #expect(byQform.source == .qform)
            try expectClose(byQform.geometry, volume.geometry)
        }
    }

    @Test("an unwritable path is a typed error naming it")
    func unwritable() throws {
        let volume = Volume<UInt8>(repeating: 1, size: GridSize(x: 2, y: 2, z: 2),
                                   geometry: Geometry(origin: .zero, spacing: [1, 1, 1], direction: .identity))
        #expect(throws: NIfTIError.self) { try NIfTIWriter.write(volume, to: "/nonexistent/folder/x.nii.gz") }
    }

    private func expectClose(_ a: Geometry, _ b: Geometry, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(NIfTITestSupport.close(a.origin.array, b.origin.array, 1e-4), "origin \(a.origin.array)",
                sourceLocation: sourceLocation)
        #expect(NIfTITestSupport.close(a.spacing.array, b.spacing.array, 1e-6), sourceLocation: sourceLocation)
        #expect(NIfTITestSupport.close(a.direction.rowMajor, b.direction.rowMajor, 1e-5),
                "direction \(a.direction.rowMajor)", sourceLocation: sourceLocation)
    }
}
