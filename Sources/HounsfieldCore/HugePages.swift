#if canImport(Glibc)
import Glibc
#endif

/// Asks Linux to back large voxel buffers with 2 MiB pages.
///
/// A volume is written once, front to back, right after it is allocated. On the small VMs this runs on, that first
/// touch of fresh memory is a fifth of a run's CPU (the kernel zeroes every page), and with 4 KiB pages a 315 MB
/// decoded CT adds 78,000 page faults. With 2 MiB pages the faults of the 512×512×300 job fell from 137,000 to
/// 15,000 and its decode stage from about 0.20 to 0.14 s in an interleaved A/B (`docs/decisions.md`, decision 33);
/// the zeroing itself remains. `madvise(MADV_HUGEPAGE)` is only advice: where transparent huge pages are off
/// (`never`) or the kernel finds no free 2 MiB page, it uses 4 KiB pages as before; the values are the same.
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
