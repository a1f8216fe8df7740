import Foundation

/// Reads fixed-size numbers at byte offsets of a header in either byte order (NIfTI headers are packed, so loads are
/// unaligned).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let bigEndian: Bool

    func int16(_ offset: Int) -> Int16 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)
        return bigEndian ? Int16(bigEndian: raw) : Int16(littleEndian: raw)
    }

    func int32(_ offset: Int) -> Int32 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
        return bigEndian ? Int32(bigEndian: raw) : Int32(littleEndian: raw)
    }

    func int64(_ offset: Int) -> Int64 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self)
        return bigEndian ? Int64(bigEndian: raw) : Int64(littleEndian: raw)
    }

    func float32(_ offset: Int) -> Double {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return Double(Float32(bitPattern: bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)))
    }

    func float64(_ offset: Int) -> Double {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return Double(bitPattern: bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw))
    }

    /// A NUL-terminated (or full-width) text field.
    func text(_ offset: Int, _ count: Int) -> String {
        let field = bytes[offset..<(offset + count)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
