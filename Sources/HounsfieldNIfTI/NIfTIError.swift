/// Why a NIfTI file could not be read: the file and the reason, with what to do about it.
///
/// Every defect of a file (cut short, damaged, a header field out of range) becomes one of these cases rather than a
/// crash, so a batch job can report the file and carry on.
public struct NIfTIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Reason: Hashable, Sendable {
        /// The file could not be opened or read (the system's message).
        case unreadable(String)
        /// The file ends before the header, the extensions or the voxels it declares (bytes present, bytes needed).
        case truncated(have: Int, need: Int)
        /// The first four bytes are neither 348 (NIfTI-1) nor 540 (NIfTI-2) in either byte order: not a NIfTI file.
        case badHeaderSize(Int32)
        /// The magic string is not `n+1` / `n+2`: the value found (`ni1` is the two-file .hdr/.img form).
        case badMagic(String)
        /// `vox_offset` lies inside the header or past the end of the file.
        case badVoxelOffset(Int64)
        /// A datatype the reader refuses (RGB, complex, binary, float128) or does not know: the NIfTI code.
        case unsupportedDataType(Int)
        /// `dim[0]` is not 1…7, or a used dimension is zero or negative: the dims as stored.
        case badDimensions([Int64])
        /// The voxel count or byte size overflows this machine's integers.
        case tooLarge
        /// The gzip stream is damaged (bad header, bad deflate data, CRC or length mismatch).
        case gzipDamaged
        /// The gzip stream ends before its last member does.
        case gzipTruncated
        /// Neither the sform nor the qform gives an orthonormal orientation (ITK refuses such files too).
        case noOrthonormalOrientation
        /// A volume index past the file's volume count (index, count).
        case volumeOutOfRange(Int, count: Int)
        /// A label map holds a value that is not a class value: not an integer, negative or above 65535.
        case notALabelValue(Double)
        /// Writing the file failed (the system's message).
        case unwritable(String)
    }

    /// The file, as given to the reader.
    public let path: String
    /// What is wrong.
    public let reason: Reason

    /// An error about `path`.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .unreadable(let message): what = "cannot be read (\(message)); check the path and its permissions"
        case .truncated(let have, let need):
            what = "is truncated: \(have) bytes, the header declares \(need); copy or download the file again"
        case .badHeaderSize(let size):
            what = "is not NIfTI: sizeof_hdr is \(size), not 348 (NIfTI-1) or 540 (NIfTI-2) in either byte order"
        case .badMagic(let magic):
            what = magic == "ni1"
                ? "is the header of a two-file NIfTI (.hdr/.img); convert it to one .nii (with nibabel, for example)"
                : "has magic '\(magic)', not 'n+1' or 'n+2': not a NIfTI-1/2 single file (Analyze 7.5 is not read)"
        case .badVoxelOffset(let offset):
            what = "has vox_offset \(offset), inside the header or past the end of the file; the header is damaged"
        case .unsupportedDataType(let code):
            what = "has datatype \(code) (\(NIfTIDataType.name(ofCode: code))); only scalar integer and float voxels "
                + "are read — convert RGB or complex images to scalars first"
        case .badDimensions(let dims):
            what = "has dims \(dims): dim[0] must be 1…7 and every used dimension positive; the header is damaged"
        case .tooLarge: what = "declares more voxels than this machine can address; the header is damaged"
        case .gzipDamaged: what = "is a damaged gzip stream (bad header, data or CRC); copy or download the file again"
        case .gzipTruncated: what = "is a gzip stream cut short; copy or download the file again"
        case .noOrthonormalOrientation:
            what = "has no orthonormal orientation: the sform is skewed or unset and the qform is unset (ITK refuses "
                + "it too); fix the header with a tool that sets a qform"
        case .volumeOutOfRange(let index, let count):
            what = "has \(count) volume(s); volume \(index) does not exist"
        case .unwritable(let message):
            what = "cannot be written (\(message)); check the folder exists, its permissions and free space"
        case .notALabelValue(let value):
            what = "holds the value \(value), which is not a class value (an integer 0…65535); is it an image "
                + "rather than a label map?"
        }
        return "\(path) \(what)"
    }
}
