import HounsfieldCore
/// How discovery groups files into series.
public struct ScanOptions: Hashable, Sendable {
    /// What to do when the distance between neighbouring slices varies. `split` makes one series per run of
    /// evenly spaced slices at scan time; the other policies act when the volume is loaded.
    public var spacing: SpacingPolicy
    /// How many files to parse at once (default: two per core, since header reads wait on the disk).
    public var concurrency: Int

    /// The defaults leave spacing to load time and read two files per core at once.
    public init(spacing: SpacingPolicy = .resample, concurrency: Int? = nil) {
        self.spacing = spacing
        self.concurrency = concurrency ?? ParallelLoop.defaultConcurrency * 2
    }
}
