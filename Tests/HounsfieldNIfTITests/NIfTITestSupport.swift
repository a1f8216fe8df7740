import Crypto
import Foundation
import HounsfieldCore

/// Paths, reference.json access and small file builders shared by the NIfTI tests.
enum NIfTITestSupport {
    /// `../shared/testdata/labels-nifti` beside the package root.
    static let folder: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/testdata/labels-nifti")

    static func path(_ relative: String) -> String { folder.appendingPathComponent(relative).path }

    /// reference.json, parsed on each use (57 kB; a stored `[String: Any]` would not be Sendable).
    static var reference: [String: Any] {
        let data = try! Data(contentsOf: folder.appendingPathComponent("reference.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func set(_ name: String) -> [String: Any] {
        (reference["sets"] as! [String: Any])[name] as! [String: Any]
    }

    /// The `nifti[]` entry of `file` in set `name`.
    static func entry(_ set: String, _ file: String) -> [String: Any] {
        (self.set(set)["nifti"] as! [[String: Any]]).first { $0["file"] as? String == file }!
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func sha256<T>(_ values: [T]) -> String {
        values.withUnsafeBytes { hex(SHA256.hash(data: $0)) }
    }

    /// A fresh temporary folder, removed by the caller's `defer`.
    static func temporaryFolder(_ label: String = #function) -> String {
        let name = "hounsfield-nifti-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-3) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    /// Geometry in LPS from nibabel's RAS affine (4×4 rows): x and y rows negated, columns split into spacing
    /// (their lengths) and direction.
    static func geometryFromRAS(_ affine: [[Double]]) -> Geometry {
        let lps = affine.prefix(3).enumerated().map { row, values in row < 2 ? values.map { -$0 } : values }
        let columns = (0..<3).map { c in Vector3(lps[0][c], lps[1][c], lps[2][c]) }
        return Geometry(
            origin: Vector3(lps[0][3], lps[1][3], lps[2][3]), spacing: Vector3(columns.map(\.length)),
            direction: Direction(x: columns[0].normalized, y: columns[1].normalized, z: columns[2].normalized))
    }
}

/// Builds small NIfTI-1 files in memory: a 348-byte header with the fields the tests vary, then the voxels.
struct NIfTI1Builder {
    var dims: [Int16] = [3, 2, 3, 4, 1, 1, 1, 1]
    var pixdim: [Float] = [1, 1, 1, 1, 0, 0, 0, 0]
    var datatype: Int16 = 2
    var bitpix: Int16 = 8
    var voxOffset: Float = 352
    var sclSlope: Float = 0
    var sclInter: Float = 0
    var qformCode: Int16 = 0
    var sformCode: Int16 = 0
    var quatern: [Float] = [0, 0, 0]
    var qoffset: [Float] = [0, 0, 0]
    var srow: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    var magic = "n+1"
    var bigEndian = false
    var sizeofHdr: Int32 = 348

    /// The header, four extension bytes (none) and `voxels` (already in the file's byte order).
    func file(voxels: [UInt8]) -> Data {
        var header = [UInt8](repeating: 0, count: 352)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let ordered = bigEndian ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: ordered) { for (i, b) in $0.enumerated() { header[offset + i] = b } }
        }
        func put(_ value: Float, at offset: Int) { put(value.bitPattern, at: offset) }
        put(sizeofHdr, at: 0)
        for (i, d) in dims.enumerated() { put(d, at: 40 + 2 * i) }
        put(datatype, at: 70)
        put(bitpix, at: 72)
        for (i, p) in pixdim.enumerated() { put(p, at: 76 + 4 * i) }
        put(voxOffset, at: 108)
        put(sclSlope, at: 112)
        put(sclInter, at: 116)
        put(qformCode, at: 252)
        put(sformCode, at: 254)
        for i in 0..<3 { put(quatern[i], at: 256 + 4 * i); put(qoffset[i], at: 268 + 4 * i) }
        for row in 0..<3 { for c in 0..<4 { put(srow[row][c], at: 280 + 16 * row + 4 * c) } }
        for (i, b) in magic.utf8.prefix(3).enumerated() { header[344 + i] = b }
        return Data(header + voxels)
    }

    /// Writes `file(voxels:)` to `path`.
    func write(to path: String, voxels: [UInt8]) throws {
        try file(voxels: voxels).write(to: URL(fileURLWithPath: path))
    }
}

/// Builds small NIfTI-2 files in memory (540-byte header, 64-bit fields), either byte order.
struct NIfTI2Builder {
    var dims: [Int64] = [3, 2, 3, 4, 1, 1, 1, 1]
    var pixdim: [Double] = [1, 0.5, 0.75, 2, 0, 0, 0, 0]
    var datatype: Int16 = 512
    var sclSlope: Double = 0.5
    var sclInter: Double = 10
    var sformCode: Int32 = 1
    var srow: [[Double]] = [[-0.5, 0, 0, 11], [0, 0.75, 0, -22], [0, 0, 2, 33]]
    var bigEndian = false

    /// The header, four extension bytes (none) and `voxels` (already in the file's byte order), at offset 544.
    func file(voxels: [UInt8]) -> Data {
        var header = [UInt8](repeating: 0, count: 544)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let ordered = bigEndian ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: ordered) { for (i, b) in $0.enumerated() { header[offset + i] = b } }
        }
        func put(_ value: Double, at offset: Int) { put(value.bitPattern, at: offset) }
        put(Int32(540), at: 0)
        for (i, b) in [0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a].enumerated() { header[4 + i] = UInt8(b) }
        put(datatype, at: 12)
        put(Int16(16), at: 14)
        for (i, d) in dims.enumerated() { put(d, at: 16 + 8 * i) }
        for (i, p) in pixdim.enumerated() { put(p, at: 104 + 8 * i) }
        put(Int64(544), at: 168)
        put(sclSlope, at: 176)
        put(sclInter, at: 184)
        put(sformCode, at: 348)
        for row in 0..<3 { for c in 0..<4 { put(srow[row][c], at: 400 + 32 * row + 8 * c) } }
        return Data(header + voxels)
    }
}
