import HounsfieldCore

/// A series between the decode and the transform stage: decoded whole, or (`volume` nil) left to the transform
/// stage to decode as its chain reads it.
struct DecodedSeries: Sendable {
    var plan: SeriesPlan
    var report: RunReport.SeriesOutcome
    /// Taken (set to nil) when handed to the chain, so it may work in place.
    var volume: Volume<Float32>?
}

/// A series between the transform and the write stage.
struct TransformedSeries: Sendable {
    var plan: SeriesPlan
    var report: RunReport.SeriesOutcome
    var volume: ProcessedVolume
}

/// What the write stage receives: a volume to write, or a request to publish the open shard because the input
/// has gone quiet (``PipelineService``'s `publishWhenIdle`).
enum WriteRequest: Sendable {
    case volume(TransformedSeries)
    case publishIfIdle
}
