import Foundation
import HounsfieldCore

/// The facts of a NIfTI-1 or NIfTI-2 header, as stored (NIfTI-1's float32 and int16 fields widened to Double and
/// Int), so that callers can see exactly what the file says beside the geometry Hounsfield derives from it.
public struct NIfTIHeader: Hashable, Sendable {
    /// The two header layouts.
    public enum Version: Int, Hashable, Sendable {
        /// 348-byte header, 16-bit dims and float32 geometry.
        case nifti1 = 1
        /// 540-byte header, 64-bit dims and float64 geometry.
        case nifti2 = 2
    }

    /// NIfTI-1 or NIfTI-2.
    public var version: Version
    /// Whether the header (and the voxels) are big-endian; detected from `sizeof_hdr`.
    public var isBigEndian: Bool
    /// `dim[0…7]`: `dim[0]` is the number of dimensions, `dim[1…3]` x, y, z, `dim[4]` time.
    public var dims: [Int]
    /// `pixdim[0…7]`: `pixdim[0]` holds qfac's sign, `pixdim[1…3]` the voxel size.
    public var pixdim: [Double]
    /// The voxel type.
    public var dataType: NIfTIDataType
    /// `bitpix`, as stored (the reader trusts the datatype).
    public var bitsPerVoxel: Int
    /// `vox_offset`: where the voxels start in the (uncompressed) file.
    public var voxelOffset: Int
    /// `scl_slope` as stored (0 or NaN means no scaling; see ``scaling``).
    public var sclSlope: Double
    /// `scl_inter` as stored.
    public var sclInter: Double
    /// `qform_code` (0 unknown, 1 scanner, 2 aligned, 3 Talairach, 4 MNI, 5 template).
    public var qformCode: Int
    /// `sform_code`, with the same meanings.
    public var sformCode: Int
    /// `quatern_b`, `quatern_c`, `quatern_d`.
    public var quaternion: [Double]
    /// `qoffset_x`, `qoffset_y`, `qoffset_z` (RAS millimetres).
    public var quaternionOffset: [Double]
    /// The sform's three rows `srow_x`, `srow_y`, `srow_z` (RAS), four values each.
    public var sformRows: [[Double]]
    /// `xyzt_units` (the spatial unit in bits 0–2, the temporal unit in bits 3–5).
    public var unitsCode: Int
    /// `intent_code`.
    public var intentCode: Int
    /// `NIFTI_INTENT_LABEL`: the values are indices into a set of labels (a label map, by the file's own word).
    public static let labelIntent = 1002
    /// `intent_name`.
    public var intentName: String
    /// `descrip`: free text, often the writing tool.
    public var descriptionText: String
    /// The header extensions between the header and the voxels, in file order.
    public var extensions: [NIfTIExtension]

    /// The bytes of the fixed header: 348 or 540.
    public var headerSize: Int { version == .nifti1 ? 348 : 540 }

    /// The quaternion's handedness from `pixdim[0]`: −1 flips the third axis, anything else is +1.
    public var qfac: Double { pixdim[0] < 0 ? -1 : 1 }

    /// The (slope, intercept) applied to stored values, or nil when none is (a slope of 0 or NaN, as ITK and
    /// nibabel treat it; an infinite intercept is taken as 0).
    public var scaling: (slope: Double, intercept: Double)? {
        guard sclSlope != 0, sclSlope.isFinite else { return nil }
        let intercept = sclInter.isFinite ? sclInter : 0
        if sclSlope == 1, intercept == 0 { return nil }
        return (sclSlope, intercept)
    }

    /// Voxels along x, y, z; unused spatial dimensions count 1.
    public var size: GridSize { GridSize(x: dims[1], y: dims[2], z: dims[3]) }

    /// The number of 3-D volumes: the product of `dim[4…dim[0]]` (time, then any further dimensions in file order).
    public var volumeCount: Int { dims[0] > 3 ? dims[4...dims[0]].reduce(1, *) : 1 }

    /// The voxel size along x, y, z as ITK takes it: `pixdim[1…3]`, with 0, NaN or an unused axis taken as 1, and
    /// the magnitude of a negative value.
    public var spacing: Vector3 {
        Vector3((1...3).map { axis in
            let value = abs(pixdim[axis])
            return axis <= dims[0] && value.isFinite && value > 0 ? value : 1
        })
    }

    /// Parses the header (and extensions) at the start of `bytes`, the whole uncompressed file.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(NIfTIError) -> NIfTIHeader {
        func fail(_ reason: NIfTIError.Reason) -> NIfTIError { NIfTIError(path: path, reason: reason) }
        guard bytes.count >= 4 else { throw fail(.truncated(have: bytes.count, need: 348)) }
        let little = ByteReader(bytes: bytes, bigEndian: false).int32(0)
        let big = ByteReader(bytes: bytes, bigEndian: true).int32(0)
        let version: Version
        let bigEndian: Bool
        switch (little, big) {
        case (348, _): (version, bigEndian) = (.nifti1, false)
        case (540, _): (version, bigEndian) = (.nifti2, false)
        case (_, 348): (version, bigEndian) = (.nifti1, true)
        case (_, 540): (version, bigEndian) = (.nifti2, true)
        default: throw fail(.badHeaderSize(little))
        }
        let headerSize = version == .nifti1 ? 348 : 540
        guard bytes.count >= headerSize else { throw fail(.truncated(have: bytes.count, need: headerSize)) }
        let r = ByteReader(bytes: bytes, bigEndian: bigEndian)

        var header: NIfTIHeader
        switch version {
        case .nifti1:
            let magic = r.text(344, 4)
            guard magic == "n+1" else { throw fail(.badMagic(magic)) }
            let code = Int(r.int16(70))
            guard let dataType = NIfTIDataType(rawValue: code) else { throw fail(.unsupportedDataType(code)) }
            header = NIfTIHeader(
                version: .nifti1, isBigEndian: bigEndian,
                dims: (0..<8).map { Int(r.int16(40 + 2 * $0)) },
                pixdim: (0..<8).map { r.float32(76 + 4 * $0) },
                dataType: dataType, bitsPerVoxel: Int(r.int16(72)),
                voxelOffset: try offset(r.float32(108), fail),
                sclSlope: r.float32(112), sclInter: r.float32(116),
                qformCode: Int(r.int16(252)), sformCode: Int(r.int16(254)),
                quaternion: (0..<3).map { r.float32(256 + 4 * $0) },
                quaternionOffset: (0..<3).map { r.float32(268 + 4 * $0) },
                sformRows: (0..<3).map { row in (0..<4).map { r.float32(280 + 16 * row + 4 * $0) } },
                unitsCode: Int(bytes[123]),
                intentCode: Int(r.int16(68)), intentName: r.text(328, 16), descriptionText: r.text(148, 80),
                extensions: [])
        case .nifti2:
            let magic = r.text(4, 8)
            guard magic == "n+2" else { throw fail(.badMagic(magic)) }
            let code = Int(r.int16(12))
            guard let dataType = NIfTIDataType(rawValue: code) else { throw fail(.unsupportedDataType(code)) }
            let dims64 = (0..<8).map { r.int64(16 + 8 * $0) }
            guard dims64.allSatisfy({ $0 > -Int64(Int32.max) && $0 < Int64(Int32.max) }) else {
                throw fail(.badDimensions(dims64))
            }
            header = NIfTIHeader(
                version: .nifti2, isBigEndian: bigEndian,
                dims: dims64.map { Int($0) },
                pixdim: (0..<8).map { r.float64(104 + 8 * $0) },
                dataType: dataType, bitsPerVoxel: Int(r.int16(14)),
                voxelOffset: try offset(Double(r.int64(168)), fail),
                sclSlope: r.float64(176), sclInter: r.float64(184),
                qformCode: Int(r.int32(344)), sformCode: Int(r.int32(348)),
                quaternion: (0..<3).map { r.float64(352 + 8 * $0) },
                quaternionOffset: (0..<3).map { r.float64(376 + 8 * $0) },
                sformRows: (0..<3).map { row in (0..<4).map { r.float64(400 + 32 * row + 8 * $0) } },
                unitsCode: Int(r.int32(500)), intentCode: Int(r.int32(504)), intentName: r.text(508, 16),
                descriptionText: r.text(240, 80), extensions: [])
        }

        let rank = header.dims[0]
        guard (1...7).contains(rank), header.dims[1...rank].allSatisfy({ $0 > 0 }) else {
            throw fail(.badDimensions(header.dims.map { Int64($0) }))
        }
        for axis in (rank + 1)..<8 { header.dims[axis] = 1 }
        if header.voxelOffset == 0 { header.voxelOffset = headerSize + 4 }
        guard header.voxelOffset >= headerSize else { throw fail(.badVoxelOffset(Int64(header.voxelOffset))) }
        guard header.voxelOffset <= bytes.count else { throw fail(.badVoxelOffset(Int64(header.voxelOffset))) }
        header.extensions = NIfTIExtension.parse(bytes, from: headerSize, to: header.voxelOffset, reader: r)
        return header
    }

    private static func offset(_ value: Double, _ fail: (NIfTIError.Reason) -> NIfTIError) throws(NIfTIError) -> Int {
        guard value.isFinite, value >= 0, value < Double(Int32.max) * 1024 else {
            throw fail(.badVoxelOffset(value.isFinite ? Int64(clamping: Int(value.rounded(.down))) : -1))
        }
        return Int(value)
    }
}
