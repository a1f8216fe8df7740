/// Where a run is, reported after every series.
public struct RunProgress: Sendable {
    /// Series finished (written or failed) of `total` to process.
    public var done: Int
    public var total: Int
    public var failed: Int
    public var bytesWritten: Int
    public var voxelsWritten: Int
    /// Seconds since processing started.
    public var elapsed: Double

    public var volumesPerSecond: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    public var megabytesPerSecond: Double { elapsed > 0 ? Double(bytesWritten) / 1e6 / elapsed : 0 }
    /// Seconds left at the current rate, nil before the first series.
    public var estimatedSecondsLeft: Double? { done > 0 ? elapsed / Double(done) * Double(total - done) : nil }
}
