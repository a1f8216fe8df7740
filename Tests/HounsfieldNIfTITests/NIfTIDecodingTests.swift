import Foundation
import HounsfieldCore
import HounsfieldNIfTI
import Testing

/// Every scalar datatype in both byte orders, scaling, and ITK's sform/qform choice, on small built files.
@Suite("NIfTI decoding")
struct NIfTIDecodingTests {
    static let values: [Double] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 100]

    /// The 24 test values stored as `type` in the chosen byte order.
    static func encode(_ type: NIfTIDataType, bigEndian: Bool) -> [UInt8] {
        func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
            withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { Array($0) }
        }
        return values.flatMap { v -> [UInt8] in
            switch type {
            case .uint8: [UInt8(v)]
            case .int8: bytes(Int8(v) - 50)
            case .int16: bytes(Int16(v) - 1000)
            case .uint16: bytes(UInt16(v) + 60000)
            case .int32: bytes(Int32(v) - 100_000)
            case .uint32: bytes(UInt32(v) + 3_000_000)
            case .int64: bytes(Int64(v) - 7)
            case .uint64: bytes(UInt64(v) + 9)
            case .float32: bytes(Float32(v + 0.25).bitPattern)
            case .float64: bytes((v - 0.5).bitPattern)
            }
        }
    }

    static func expected(_ type: NIfTIDataType) -> [Float32] {
        values.map { v in
            switch type {
            case .uint8: Float32(v)
            case .int8: Float32(v - 50)
            case .int16: Float32(v - 1000)
            case .uint16: Float32(v + 60000)
            case .int32: Float32(v - 100_000)
            case .uint32: Float32(v + 3_000_000)
            case .int64: Float32(v - 7)
            case .uint64: Float32(v + 9)
            case .float32: Float32(v + 0.25)
            case .float64: Float32(v - 0.5)
            }
        }
    }

    @Test("every datatype, little- and big-endian", arguments: NIfTIDataType.allCases, [false, true])
    func datatype(_ type: NIfTIDataType, bigEndian: Bool) throws {
        var builder = NIfTI1Builder()
        builder.datatype = Int16(type.rawValue)
        builder.bitpix = Int16(8 * type.byteCount)
        builder.bigEndian = bigEndian
        let image = try NIfTIImage(path: "t.nii", data: builder.file(voxels: Self.encode(type, bigEndian: bigEndian)))
        #expect(image.header.isBigEndian == bigEndian)
        #expect(image.size == GridSize(x: 2, y: 3, z: 4))
        #expect(try image.volume().voxels == Self.expected(type))
    }

    @Test("scl_slope and scl_inter apply; slope 0 or NaN means none")
    func scaling() throws {
        var builder = NIfTI1Builder()
        let voxels = Self.values.map { UInt8($0) }
        builder.sclSlope = 2
        builder.sclInter = -1
        var image = try NIfTIImage(path: "s.nii", data: builder.file(voxels: voxels))
        #expect(try image.volume().voxels == Self.values.map { Float32($0 * 2 - 1) })
        for slope in [Float(0), .nan] {
            builder.sclSlope = slope
            builder.sclInter = 5
            image = try NIfTIImage(path: "s.nii", data: builder.file(voxels: voxels))
            #expect(image.header.scaling == nil)
            #expect(try image.volume().voxels == Self.values.map { Float32($0) })
        }
    }

    @Test("a typed volume: int16 as stored, scaled values rounded and saturated")
    func typedVolume() throws {
        var builder = NIfTI1Builder()
        builder.datatype = 4
        builder.bitpix = 16
        let image = try NIfTIImage(path: "i.nii", data: builder.file(voxels: Self.encode(.int16, bigEndian: false)))
        #expect(try image.volume(as: Int16.self).voxels == Self.values.map { Int16($0) - 1000 })
        builder.sclSlope = 100
        let scaled = try NIfTIImage(path: "s.nii", data: builder.file(voxels: Self.encode(.int16, bigEndian: false)))
        #expect(try scaled.volume(as: Int16.self).voxels.allSatisfy { $0 == Int16.min })
        #expect(try scaled.volume(as: Float32.self).voxels == Self.values.map { Float32(($0 - 1000) * 100) })
    }

    @Test("4-D: volumes in file order")
    func fourD() throws {
        var builder = NIfTI1Builder()
        builder.dims = [4, 2, 3, 2, 2, 1, 1, 1]
        let image = try NIfTIImage(path: "4d.nii", data: builder.file(voxels: Self.values.map { UInt8($0) }))
        #expect(image.volumeCount == 2)
        let volumes = try image.volumes()
        #expect(volumes[0].voxels == Self.values.prefix(12).map { Float32($0) })
        #expect(volumes[1].voxels == Self.values.suffix(12).map { Float32($0) })
    }

    @Test("no qform and no sform: origin 0, identity direction in LPS, spacing from pixdim")
    func noTransform() throws {
        var builder = NIfTI1Builder()
        builder.pixdim = [1, 0.5, 2, 3, 0, 0, 0, 0]
        let image = try NIfTIImage(path: "n.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.orientation.source == NIfTIOrientationSource.none)
        #expect(image.geometry == Geometry(origin: .zero, spacing: [0.5, 2, 3], direction: .identity))
    }

    @Test("ITK's choice: sform code 1 wins over a different qform; code 2 does not; equal transforms give the sform")
    func sformOrQform() throws {
        var builder = NIfTI1Builder()
        builder.qformCode = 1
        builder.qoffset = [1, 2, 3]
        builder.sformCode = 1
        builder.srow = [[-1, 0, 0, 10], [0, 1, 0, 20], [0, 0, 1, 30]]
        var image = try NIfTIImage(path: "a.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.orientation.source == .sform)
        #expect(image.geometry.origin == [-10, -20, 30])
        #expect(image.geometry.direction.rowMajor == [1, 0, 0, 0, -1, 0, 0, 0, 1])

        builder.sformCode = 2
        image = try NIfTIImage(path: "b.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.orientation.source == .qform)
        #expect(image.geometry.origin == [-1, -2, 3])
        #expect(image.geometry.direction.rowMajor == [-1, 0, 0, 0, -1, 0, 0, 0, 1])

        builder.srow = [[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3]]
        image = try NIfTIImage(path: "c.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.orientation.source == .sform)
    }

    @Test("qfac −1 flips the third axis")
    func qfac() throws {
        var builder = NIfTI1Builder()
        builder.qformCode = 1
        builder.pixdim = [-1, 1, 1, 2, 0, 0, 0, 0]
        let image = try NIfTIImage(path: "q.nii", data: builder.file(voxels: [UInt8](repeating: 0, count: 24)))
        #expect(image.header.qfac == -1)
        #expect(image.geometry.direction.rowMajor == [-1, 0, 0, 0, -1, 0, 0, 0, -1])
        #expect(image.geometry.spacing == [1, 1, 2])
    }

    @Test("NIfTI-2 in either byte order: 64-bit dims, float64 geometry and scaling", arguments: [false, true])
    func nifti2(bigEndian: Bool) throws {
        var builder = NIfTI2Builder()
        builder.bigEndian = bigEndian
        let voxels = Self.encode(.uint16, bigEndian: bigEndian)
        let image = try NIfTIImage(path: "two.nii", data: builder.file(voxels: voxels))
        #expect(image.header.version == .nifti2)
        #expect(image.header.isBigEndian == bigEndian)
        #expect(image.header.voxelOffset == 544)
        #expect(image.size == GridSize(x: 2, y: 3, z: 4))
        #expect(image.orientation.source == .sform)
        #expect(image.geometry == Geometry(
            origin: [-11, 22, 33], spacing: [0.5, 0.75, 2], direction: Direction(rowMajor: [1, 0, 0, 0, -1, 0, 0, 0, 1])))
        #expect(try image.volume().voxels == Self.expected(.uint16).map { $0 * 0.5 + 10 })
    }

    @Test("label-like: whole numbers ≥ 0 in at most 1,024 values; a CT stored unsigned is not; NIFTI_INTENT_LABEL lifts the limit")
    func labelLikeValues() throws {
        let size = GridSize(x: 64, y: 48, z: 4)
        let geometry = Geometry(origin: [0, 0, 0], spacing: [1, 1, 2], direction: .identity)
        func image(_ values: [UInt16], intent: Int16 = 0) throws -> NIfTIImage {
            var data = NIfTIWriter.data(Volume(voxels: values, size: size, geometry: geometry))
            withUnsafeBytes(of: intent.littleEndian) { data.replaceSubrange(68..<70, with: $0) }
            return try NIfTIImage(path: "test.nii", data: data)
        }
        let classes = (0..<size.voxelCount).map { UInt16($0 % 118) }          // TotalSegmentator's 117 classes
        let parcels = (0..<size.voxelCount).map { UInt16($0 % 1001) }         // 1,000 regions and background
        let unsignedCT = (0..<size.voxelCount).map { UInt16(($0 * 7) % 3000) } // 0…2999: HU + 1024 without scl_inter
        #expect(try image(classes).holdsLabelValues())
        #expect(try image(parcels).holdsLabelValues())
        #expect(try !image(unsignedCT).holdsLabelValues())
        #expect(try image(unsignedCT, intent: Int16(NIfTIHeader.labelIntent)).holdsLabelValues())
        #expect(try image(unsignedCT, intent: Int16(NIfTIHeader.labelIntent)).header.intentCode == 1002)
    }
}
