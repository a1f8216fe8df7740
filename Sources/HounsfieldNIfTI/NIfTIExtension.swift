/// One header extension: the code that says what it holds and its bytes, kept as stored so that nothing a writer put
/// in the file (label tables, comments, DICOM, AFNI or CIFTI XML) is lost.
public struct NIfTIExtension: Hashable, Sendable {
    /// `ecode`: 0 unknown (TotalSegmentator's Caret label table uses it), 2 DICOM, 4 AFNI, 6 comment, 30 CIFTI, …
    public var code: Int
    /// The extension's bytes after its 8-byte (esize, ecode) prefix, padding included.
    public var bytes: [UInt8]

    /// An extension with its code and bytes.
    public init(code: Int, bytes: [UInt8]) {
        self.code = code
        self.bytes = bytes
    }

    /// The bytes without the NUL padding at the end (what nibabel reports as the content).
    public var content: ArraySlice<UInt8> {
        let end = (bytes.lastIndex { $0 != 0 }).map { $0 + 1 } ?? 0
        return bytes[0..<end]
    }

    /// The content as UTF-8 text (comments, XML).
    public var text: String { String(decoding: content, as: UTF8.self) }

    /// Reads the extensions between the header and the voxels. A damaged list (a size under 8 or past the voxels)
    /// ends it, as NIfTI's reference library does: the voxels are still read.
    static func parse(_ bytes: UnsafeRawBufferPointer, from headerSize: Int, to voxelOffset: Int,
                      reader: ByteReader) -> [NIfTIExtension] {
        guard headerSize + 4 <= voxelOffset, bytes[headerSize] != 0 else { return [] }
        var extensions: [NIfTIExtension] = []
        var position = headerSize + 4
        while position + 8 <= voxelOffset {
            let size = Int(reader.int32(position))
            let code = Int(reader.int32(position + 4))
            guard size >= 8, position + size <= voxelOffset else { break }
            extensions.append(NIfTIExtension(code: code, bytes: Array(bytes[(position + 8)..<(position + size)])))
            position += size
        }
        return extensions
    }
}
