import HounsfieldHDF5

/// What a ``PipelineService`` reports, in the order it happens. A sink (the run report, a worker's completion
/// message, the daemon's journal) reads these from ``PipelineService/events``.
public enum PipelineEvent: Sendable {
    /// An item's discovery is done: what it found, and what was excluded. Comes before any outcome of the item.
    case discovered(Discovery)
    /// One series reached its end in this service: written into a shard, failed, or skipped (with the reason).
    case outcome(SeriesOutcome)
    /// A shard became durable: closed, fsynced, renamed and listed in the manifest. Only now is a written series
    /// safe to acknowledge (the daemon, a worker's completion).
    case published(ShardPublication)
    /// Every series of an item has its outcome. Written series may still sit in the open shard: wait for their
    /// ``published(_:)`` before treating them as durable.
    case itemFinished(String)

    /// What discovery found in one item.
    public struct Discovery: Sendable {
        /// The item's identifier.
        public var item: String
        /// Files read.
        public var files: Int
        /// Series found, selected or not.
        public var series: Int
        /// Series sent on to the stages.
        public var planned: Int
        /// Series skipped because the output already holds them (resume).
        public var resumed: Int
        /// Files that formed no series, with their reason.
        public var excluded: [RunReport.Excluded]
        /// Why discovery of the whole item failed (a given path does not exist), or nil.
        public var error: String?
        /// Seconds spent listing and reading headers.
        public var seconds: Double
        /// What discovery did that a user should know (links followed, loops not entered).
        public var notes: [String] = []
        /// When the item holds no series at all: where discovery looked and what it skipped, as a sentence.
        public var noSeriesMessage: String?
    }

    /// One series' end in the service.
    public struct SeriesOutcome: Sendable {
        /// The item the series came from.
        public var item: String
        /// The report's record of the series: key, status, stage, file, error, stage times, attempts.
        public var report: RunReport.SeriesOutcome
        /// The shard the volume was written into (`written` only); durable once that shard is published.
        public var shard: String?
        /// The manifest checksum of the written image (`written` only).
        public var checksum: String?
        /// Uncompressed bytes of the written image (`written` only).
        public var bytes: Int
    }

    /// A shard made durable.
    public struct ShardPublication: Sendable {
        /// The shard's file name in the output folder.
        public var shard: String
        /// The keys of the volumes it holds, in the order written.
        public var keys: [String]
    }
}
