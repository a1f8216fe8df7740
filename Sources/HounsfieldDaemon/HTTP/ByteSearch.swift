#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding a byte pattern in a large buffer without a Swift loop per byte: `memchr` jumps to each candidate first
/// byte and `memcmp` checks the rest, so a 150 MB multipart body is scanned at memory speed, in debug builds too.
/// (glibc's `memmem` would do, but Swift's Glibc module does not declare it.)
enum ByteSearch {
    /// The offset of the first occurrence of `pattern` in `buffer` at or after `start`, or nil.
    static func firstOffset(of pattern: [UInt8], in buffer: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        guard !pattern.isEmpty, let base = buffer.baseAddress else { return nil }
        let count = buffer.count
        return pattern.withUnsafeBytes { needle -> Int? in
            let first = Int32(needle[0])
            var position = start
            while count - position >= needle.count {
                guard let hit = memchr(base + position, first, count - position - needle.count + 1) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + offset, needle.baseAddress!, needle.count) == 0 { return offset }
                position = offset + 1
            }
            return nil
        }
    }
}
