/// Where a run is, reported after every series.
public struct RunProgress: Sendable {
    /// Series finished (written or failed) of `total` to process.
    public var done: Int
    /// Series to process in this run (resumed ones not counted).
    public var total: Int
    /// Series that failed so far.
    public var failed: Int
    /// Bytes of voxels written so far, uncompressed.
    public var bytesWritten: Int
    /// Voxels written so far.
    public var voxelsWritten: Int
    /// Seconds since processing started.
    public var elapsed: Double

    /// Series finished per second so far.
    public var volumesPerSecond: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    /// Uncompressed megabytes (10⁶ bytes) written per second so far.
    public var megabytesPerSecond: Double { elapsed > 0 ? Double(bytesWritten) / 1e6 / elapsed : 0 }
    /// Seconds left at the current rate, nil before the first series.
    public var estimatedSecondsLeft: Double? { done > 0 ? elapsed / Double(done) * Double(total - done) : nil }
}
