#if canImport(Glibc)
import Glibc
#endif

/// Asks Linux to back large voxel buffers with 2 MiB pages.
///
/// A volume is written once, front to back, right after it is allocated, and on the small VMs this runs on the first
/// touch of fresh 4 KiB pages is what that write costs most: 0.2 s of CPU for a 315 MB decoded CT (78,000 page
/// faults), about 0.06 s with 2 MiB pages (measured with a C loop on the CI machine type; `docs/decisions.md`,
/// decision 33). `madvise(MADV_HUGEPAGE)` is only advice: where transparent huge pages are off (`never`) or the
/// kernel finds no free 2 MiB page, it uses 4 KiB pages as before, and the values are the same either way.
enum HugePages {
    /// Buffers smaller than this are left alone: they come from malloc's heap, whose pages are already mapped.
    static let minimumBytes = 8 << 20
    static let pageBytes = 2 << 20

    /// Advises huge pages for the 2 MiB-aligned part of `buffer`. Call it before the buffer is first written.
    static func advise(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= minimumBytes, let base = buffer.baseAddress else { return }
        let mask = UInt(pageBytes - 1)
        let start = (UInt(bitPattern: base) + mask) & ~mask
        let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~mask
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, Int(end - start), MADV_HUGEPAGE)
        #endif
    }
}
