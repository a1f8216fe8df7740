import CGzip
import Foundation

/// `.nii.gz` support: whole-file gzip inflation and deflation through zlib (the CGzip shim).
enum Gzip {
    /// Whether `bytes` start with gzip's magic (1f 8b): the test the reader uses, whatever the file is called.
    static func isGzip(_ bytes: Data) -> Bool {
        bytes.count >= 2 && bytes[bytes.startIndex] == 0x1f && bytes[bytes.startIndex + 1] == 0x8b
    }

    /// Inflates every member of a gzip file; `path` names the file in the error.
    static func inflate(_ compressed: Data, path: String) throws(NIfTIError) -> Data {
        // ISIZE, the last four bytes, is the (last member's) size modulo 2³²: a good first allocation.
        var hint = 0
        if compressed.count >= 4 {
            let tail = compressed.suffix(4)
            hint = tail.reversed().reduce(0) { $0 << 8 | Int($1) }
            // deflate expands at most ~1032×: a larger ISIZE is a damaged or cut trailer, not a size to allocate.
            if hint > compressed.count * 1032 + 65536 { hint = 0 }
        }
        var output: UnsafeMutablePointer<UInt8>?
        var produced = 0
        let status = compressed.withUnsafeBytes { raw in
            hf_gzip_inflate(raw.baseAddress, raw.count, hint, Int.max / 2, &output, &produced)
        }
        switch Int(status) {
        case HF_GZIP_OK:
            guard let output else { return Data() }
            return Data(bytesNoCopy: output, count: produced, deallocator: .free)
        case HF_GZIP_TRUNCATED: throw NIfTIError(path: path, reason: .gzipTruncated)
        case HF_GZIP_TOO_LARGE: throw NIfTIError(path: path, reason: .tooLarge)
        default: throw NIfTIError(path: path, reason: .gzipDamaged)
        }
    }

    /// Inflates the start of a gzip stream (`compressed` may be only the start of a file), at most `capacity`
    /// bytes: a header and the first voxels, without inflating the whole volume.
    static func inflatePrefix(_ compressed: Data, capacity: Int, path: String) throws(NIfTIError) -> Data {
        var inflated = Data(count: capacity)
        var produced = 0
        let status = inflated.withUnsafeMutableBytes { out in
            compressed.withUnsafeBytes { raw in
                hf_gzip_inflate_prefix(raw.baseAddress, raw.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       out.count, &produced)
            }
        }
        guard status == HF_GZIP_OK else { throw NIfTIError(path: path, reason: .gzipDamaged) }
        return inflated.prefix(produced)
    }

    /// Compresses `data` as one gzip member (zlib level 6 unless given).
    static func deflate(_ data: Data, level: Int32 = 6, path: String) throws(NIfTIError) -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        var produced = 0
        let status = data.withUnsafeBytes { raw in
            hf_gzip_deflate(raw.baseAddress, raw.count, level, &output, &produced)
        }
        guard status == HF_GZIP_OK, let output else { throw NIfTIError(path: path, reason: .tooLarge) }
        return Data(bytesNoCopy: output, count: produced, deallocator: .free)
    }
}
