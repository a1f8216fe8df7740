import Foundation

/// One version of a series in the spool: the instances received for it so far, and when the last one came.
///
/// A series is processed once it has been quiet for a while (nothing received). An instance that arrives after
/// that opens the next version, which holds every instance of the series the spool still has (the earlier ones
/// too, unless its retention pruned them); the shards keep each version under its own key, so nothing already
/// written is overwritten.
public struct SpooledSeries: Sendable, Equatable {
    /// StudyInstanceUID.
    public var studyInstanceUID: String
    /// SeriesInstanceUID.
    public var seriesInstanceUID: String
    /// 1 for the first version, one more for each instance that arrived after a version was processed.
    public var version: Int
    /// Whether this version was processed (``Spool/markProcessed(_:)``).
    public var isProcessed: Bool
    /// When its last instance was recorded.
    public var lastReceived: Date
}
