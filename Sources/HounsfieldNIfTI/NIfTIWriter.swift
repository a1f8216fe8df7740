import Foundation
import HounsfieldCore

/// A voxel type the NIfTI writer can store, with the datatype it is stored as.
public protocol NIfTIWritableScalar: VoxelScalar {
    /// The NIfTI datatype of this scalar.
    static var niftiDataType: NIfTIDataType { get }
}

extension Float32: NIfTIWritableScalar {
    /// `DT_FLOAT32`.
    public static var niftiDataType: NIfTIDataType { .float32 }
}

extension Int16: NIfTIWritableScalar {
    /// `DT_INT16`.
    public static var niftiDataType: NIfTIDataType { .int16 }
}

extension UInt8: NIfTIWritableScalar {
    /// `DT_UINT8`.
    public static var niftiDataType: NIfTIDataType { .uint8 }
}

extension UInt16: NIfTIWritableScalar {
    /// `DT_UINT16`.
    public static var niftiDataType: NIfTIDataType { .uint16 }
}

/// Writes a volume as a NIfTI-1 file (`.nii`, or `.nii.gz` when the path ends so), for users who feed nnU-Net or
/// MONAI directly.
///
/// The header is written as ITK writes it, so that ITK, SimpleITK and nibabel read back the same geometry: little-
/// endian, `vox_offset` 352, no extensions, qform and sform both set with code 1 (scanner anatomical) from the same
/// LPS geometry turned into RAS, `pixdim[1…3]` the spacing, `xyzt_units` millimetres, no scaling. A mirrored
/// direction (determinant −1) is stored in the qform with qfac −1.
public enum NIfTIWriter {
    /// The file's bytes (uncompressed) for `volume`; `description` goes in `descrip` (at most 79 bytes are kept).
    public static func data<Scalar: NIfTIWritableScalar>(
        _ volume: Volume<Scalar>, description: String = "Hounsfield"
    ) -> Data {
        data(channels: [volume], description: description)
    }

    /// The bytes of a 4-D file `(x, y, z, C)` holding `channels` (volumes on one grid) one after another, as MONAI's
    /// `LoadImage` reads a multi-channel label (channel last); one channel is a 3-D file. The grid is the first
    /// channel's: the caller gives volumes of one size and geometry.
    public static func data<Scalar: NIfTIWritableScalar>(
        channels: [Volume<Scalar>], description: String = "Hounsfield"
    ) -> Data {
        precondition(!channels.isEmpty && channels.allSatisfy { $0.size == channels[0].size }, "channels of one grid")
        let volume = channels[0]
        var header = [UInt8](repeating: 0, count: 352)
        func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { header[offset + i] = b } }
        }
        func put(_ value: Double, _ offset: Int) { put(Float32(value).bitPattern, offset) }
        let type = Scalar.niftiDataType
        let g = volume.geometry
        put(Int32(348), 0)
        header[38] = UInt8(ascii: "r")  // `regular`, as nifti_io writes it
        let dims = [channels.count > 1 ? 4 : 3, volume.size.x, volume.size.y, volume.size.z, channels.count, 1, 1, 1]
        for (i, d) in dims.enumerated() { put(Int16(d), 40 + 2 * i) }
        put(Int16(type.rawValue), 70)
        put(Int16(8 * type.byteCount), 72)
        // RAS axes: LPS with x and y negated.
        let ras = [g.direction.x, g.direction.y, g.direction.z].map { Vector3(-$0.x, -$0.y, $0.z) }
        let mirrored = ras[0].dot(ras[1].cross(ras[2])) < 0
        let pixdim = [mirrored ? -1 : 1, g.spacing.x, g.spacing.y, g.spacing.z, channels.count > 1 ? 1 : 0, 0, 0, 0]
        for (i, p) in pixdim.enumerated() { put(p, 76 + 4 * i) }
        put(352.0, 108)
        put(1.0, 112)  // scl_slope 1, scl_inter 0: stored values are the values
        header[123] = 2  // NIFTI_UNITS_MM
        for (i, byte) in description.utf8.prefix(79).enumerated() { header[148 + i] = byte }
        put(Int16(1), 252)
        put(Int16(1), 254)
        let quaternion = Self.quaternion(ras[0], ras[1], mirrored ? -ras[2] : ras[2])
        for i in 0..<3 { put(quaternion[i], 256 + 4 * i) }
        let originRAS = [-g.origin.x, -g.origin.y, g.origin.z]
        for i in 0..<3 { put(originRAS[i], 268 + 4 * i) }
        for row in 0..<3 {
            for column in 0..<3 { put(ras[column][row] * g.spacing[column], 280 + 16 * row + 4 * column) }
            put(originRAS[row], 280 + 16 * row + 12)
        }
        for (i, byte) in "n+1".utf8.enumerated() { header[344 + i] = byte }
        var data = Data(header)
        for channel in channels {
            channel.voxels.withUnsafeBytes { raw in
                if 1.littleEndian == 1 || MemoryLayout<Scalar>.size == 1 {
                    data.append(contentsOf: raw)
                } else {
                    // A big-endian host: reverse each voxel's bytes.
                    let width = MemoryLayout<Scalar>.size
                    for start in stride(from: 0, to: raw.count, by: width) {
                        data.append(contentsOf: raw[start..<(start + width)].reversed())
                    }
                }
            }
        }
        return data
    }

    /// Writes `volume` to `path`, gzip-compressed when the path ends in `.gz`. Throws ``NIfTIError`` naming the
    /// path when the file cannot be written.
    public static func write<Scalar: NIfTIWritableScalar>(
        _ volume: Volume<Scalar>, to path: String, description: String = "Hounsfield"
    ) throws(NIfTIError) {
        try write(channels: [volume], to: path, description: description)
    }

    /// Writes `channels` (volumes on one grid) as one 4-D file `(x, y, z, C)`, as ``data(channels:description:)``
    /// lays it out, gzip-compressed when the path ends in `.gz`. Throws, writing nothing, when there is no channel or
    /// the channels' grids differ.
    public static func write<Scalar: NIfTIWritableScalar>(
        channels: [Volume<Scalar>], to path: String, description: String = "Hounsfield"
    ) throws(NIfTIError) {
        guard let first = channels.first,
              channels.allSatisfy({ $0.size == first.size && $0.geometry == first.geometry }) else {
            throw NIfTIError(path: path, reason: .unwritable("the channels must be at least one volume, all on one grid"))
        }
        var bytes = data(channels: channels, description: description)
        if path.lowercased().hasSuffix(".gz") { bytes = try Gzip.deflate(bytes, path: path) }
        do {
            try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw NIfTIError(path: path, reason: .unwritable(error.localizedDescription))
        }
    }

    /// The quaternion (b, c, d) of a proper rotation whose columns are `x`, `y`, `z` (NIfTI's
    /// `nifti_mat44_to_quatern`, with `a` ≥ 0).
    static func quaternion(_ x: Vector3, _ y: Vector3, _ z: Vector3) -> [Double] {
        let (r11, r12, r13) = (x.x, y.x, z.x)
        let (r21, r22, r23) = (x.y, y.y, z.y)
        let (r31, r32, r33) = (x.z, y.z, z.z)
        var a = r11 + r22 + r33 + 1
        var b: Double, c: Double, d: Double
        if a > 0.5 {
            a = 0.5 * a.squareRoot()
            b = 0.25 * (r32 - r23) / a
            c = 0.25 * (r13 - r31) / a
            d = 0.25 * (r21 - r12) / a
        } else {
            let xd = 1 + r11 - (r22 + r33), yd = 1 + r22 - (r11 + r33), zd = 1 + r33 - (r11 + r22)
            if xd > 1 {
                b = 0.5 * xd.squareRoot()
                c = 0.25 * (r12 + r21) / b
                d = 0.25 * (r13 + r31) / b
                a = 0.25 * (r32 - r23) / b
            } else if yd > 1 {
                c = 0.5 * yd.squareRoot()
                b = 0.25 * (r12 + r21) / c
                d = 0.25 * (r23 + r32) / c
                a = 0.25 * (r13 - r31) / c
            } else {
                d = 0.5 * zd.squareRoot()
                b = 0.25 * (r13 + r31) / d
                c = 0.25 * (r23 + r32) / d
                a = 0.25 * (r21 - r12) / d
            }
            if a < 0 { (b, c, d) = (-b, -c, -d) }
        }
        return [b, c, d]
    }
}
