import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Testing

/// Damaged and unsupported files give a typed error naming the file and the reason, never a crash.
@Suite("NIfTI bad files")
struct NIfTIBadFileTests {
    private func reason(_ data: Data, path: String = "bad.nii") -> NIfTIError.Reason? {
        do {
            _ = try NIfTIImage(path: path, data: data)
            return nil
        } catch {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path))
            return error.reason
        }
    }

    private func original(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: NIfTITestSupport.path(relative)))
    }

    @Test("a file cut short is truncated, at every length from empty to one byte short")
    func truncated() throws {
        let data = try original("nibabel-orientation/anatomical.nii")
        for length in [0, 3, 100, 347, 351, 352, 1000, data.count - 1] {
            let reason = reason(data.prefix(length))
            switch reason {
            case .truncated(let have, _): #expect(have == length)
            case .badVoxelOffset: #expect(length < 352)  // cut inside the header's extension bytes
            default: Issue.record("length \(length): \(String(describing: reason))")
            }
        }
    }

    @Test("sizeof_hdr that is neither 348 nor 540 in either byte order")
    func badHeaderSize() throws {
        var data = try original("nibabel-orientation/anatomical.nii")
        data.replaceSubrange(0..<4, with: [0x12, 0x34, 0x56, 0x78])
        #expect(reason(data) == .badHeaderSize(0x7856_3412))
        #expect(reason(Data("hello, not an image at all".utf8)) != nil)
    }

    @Test("vox_offset past the end of the file or inside the header")
    func badVoxelOffset() {
        var builder = NIfTI1Builder()
        builder.voxOffset = 1_000_000
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == .badVoxelOffset(1_000_000))
        builder.voxOffset = 100
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == .badVoxelOffset(100))
    }

    @Test("RGB, complex and binary datatypes are refused by code", arguments: [128, 32, 1792, 2304, 1, 1536, 0, 3])
    func unsupportedDataType(_ code: Int) {
        var builder = NIfTI1Builder()
        builder.datatype = Int16(code)
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 96))) == .unsupportedDataType(code))
    }

    @Test("dims of zero, negative, or a rank outside 1…7")
    func badDimensions() {
        for dims: [Int16] in [[3, 2, 0, 4, 1, 1, 1, 1], [3, 2, -3, 4, 1, 1, 1, 1], [0, 2, 3, 4, 1, 1, 1, 1],
                              [8, 2, 3, 4, 1, 1, 1, 1], [4, 2, 3, 4, 0, 1, 1, 1]] {
            var builder = NIfTI1Builder()
            builder.dims = dims
            let expected = NIfTIError.Reason.badDimensions(dims.map { Int64($0) })
            #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == expected)
        }
    }

    @Test("magic: the two-file form and no magic at all")
    func badMagic() {
        var builder = NIfTI1Builder()
        builder.magic = "ni1"
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == .badMagic("ni1"))
        builder.magic = ""
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == .badMagic(""))
    }

    @Test("gzip cut short, and gzip with damaged bytes")
    func gzip() throws {
        let data = try original("nibabel-orientation/example4d.nii.gz")
        for length in [2, 10, 20, data.count / 2, data.count - 4] {
            #expect(reason(data.prefix(length), path: "cut.nii.gz") == .gzipTruncated, "length \(length)")
        }
        var damaged = data
        for offset in stride(from: 1000, to: 1100, by: 1) { damaged[offset] ^= 0x5a }
        #expect(reason(damaged, path: "damaged.nii.gz") == .gzipDamaged)
        var crc = data
        crc[crc.count - 6] ^= 0xff  // inside the CRC-32 of the trailer
        #expect(reason(crc, path: "crc.nii.gz") == .gzipDamaged)
    }

    @Test("a missing file is unreadable, with its path")
    func unreadable() {
        #expect(throws: NIfTIError.self) { try NIfTIImage(contentsOf: "/nonexistent/image.nii.gz") }
        do {
            _ = try NIfTIImage(contentsOf: "/nonexistent/image.nii.gz")
        } catch {
            guard case .unreadable = error.reason else { Issue.record("\(error)"); return }
            #expect(error.path == "/nonexistent/image.nii.gz")
        }
    }

    @Test("a float image is not a label map; a volume past the count is refused")
    func labelAndVolumeErrors() throws {
        let image = try NIfTIImage(contentsOf: NIfTITestSupport.path("nibabel-orientation/reoriented_anat_moved.nii"))
        do {
            _ = try image.labelValues()
            Issue.record("a float image read as labels")
        } catch {
            guard case .notALabelValue = error.reason else { Issue.record("\(error)"); return }
        }
        #expect(throws: NIfTIError.self) { try image.volume(1) }
    }

    @Test("a skewed sform with no qform is refused; with a qform, the qform is used")
    func skewedSform() throws {
        var builder = NIfTI1Builder()
        builder.sformCode = 2
        builder.srow = [[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
        #expect(reason(builder.file(voxels: [UInt8](repeating: 0, count: 24))) == .noOrthonormalOrientation)
        builder.qformCode = 1
        builder.qoffset = [10, 20, 30]
        let image = try NIfTIImage(path: "q.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.orientation.source == .qform)
        #expect(image.geometry.origin == [-10, -20, 30])
    }
}
