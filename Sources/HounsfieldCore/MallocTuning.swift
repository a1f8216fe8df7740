import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a long run asks glibc's malloc to keep its resident size to what is alive (Linux; elsewhere nothing).
///
/// Why (decision 43, measured on `hounsfield run` over 24, 96 and 384 series of 512×512×80):
/// - **Fixed thresholds.** glibc raises its mmap threshold to the size of the largest mmapped block freed so far
///   (up to 32 MiB), after which blocks below it come from its per-thread arenas and stay there when freed. Which
///   buffers ended up in arenas then depended on what the run had freed before: a scan of 384 series frees a 13 MB
///   array of headers, after which the writer's 4 MiB chunk buffers lived in arenas, and the arenas grew with the
///   run (66 MB after the scan, 126 MB 60 s later). ``configureForLongRuns()`` fixes the mmap threshold at 1 MiB, so
///   volumes, chunk buffers and planes are mmapped (and returned when freed) whatever came before; and the trim
///   threshold at 8 MiB, because fixing the first makes glibc drop the second to 128 KiB, where arena tops were
///   handed back and faulted in again at every turn of the 0.5 MB file buffers (three times the page faults).
/// - **Trimming after a scan.** ``releaseFreePages()`` (`malloc_trim(0)`) returns the free pages inside every arena,
///   which glibc otherwise returns only from the top of each heap: the pipeline calls it once an item's headers
///   are planned, and when the writer publishes because the source went quiet. Not at every series: it cost the
///   writer a few milliseconds before each volume for a few MB.
/// - **At most every few seconds where items are small.** A worker's or a daemon's items are single studies, one
///   after another, whose scans free little: the trim after each item's scan uses ``releaseFreePages(atMostEvery:)``
///   (the first call trims, later ones once the interval has passed), which bounds both its cost and how long freed
///   pages stay resident. The write stage trims once it has waited a second for input (decision 69).
package enum MallocTuning {
    /// Sets the thresholds, once per process (later calls do nothing). Call it before the work starts.
    package static func configureForLongRuns() {
        #if os(Linux)
        _ = configured
        #endif
    }

    /// Returns the free pages of every malloc arena to the system. Safe to call from any thread at any time.
    package static func releaseFreePages() {
        #if os(Linux)
        guard let pointer = UnsafeRawPointer(bitPattern: mallocTrim) else { return }
        _ = unsafeBitCast(pointer, to: (@convention(c) (Int) -> Int32).self)(0)
        #endif
    }

    /// ``releaseFreePages()``, unless it ran less than `interval` ago (through this function) in this process.
    package static func releaseFreePages(atMostEvery interval: Duration) {
        let now = ContinuousClock.now
        let due = lastThrottledRelease.withLock { last -> Bool in
            if let previous = last, now - previous < interval { return false }
            last = now
            return true
        }
        if due { releaseFreePages() }
    }

    /// How often the trim after an item's scan runs at most.
    package static let perItemInterval = Duration.seconds(5)

    private static let lastThrottledRelease = Mutex<ContinuousClock.Instant?>(nil)

    #if os(Linux)
    /// `M_TRIM_THRESHOLD` and `M_MMAP_THRESHOLD` in glibc's `malloc.h`.
    private static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3

    private static let configured: Bool = {
        guard let pointer = UnsafeRawPointer(bitPattern: mallopt) else { return false }
        let set = unsafeBitCast(pointer, to: (@convention(c) (Int32, Int32) -> Int32).self)
        return set(mmapThreshold, 1 << 20) == 1 && set(trimThreshold, 8 << 20) == 1
    }()

    /// Addresses of glibc's `malloc_trim` and `mallopt`, looked up at run time: their header, `malloc.h`, is not
    /// part of Swift's Glibc module. 0 under a C library without them (musl): then nothing is tuned.
    private static let mallocTrim = symbol("malloc_trim"), mallopt = symbol("mallopt")

    private static func symbol(_ name: String) -> Int { dlsym(nil, name).map { Int(bitPattern: $0) } ?? 0 }
    #endif
}
