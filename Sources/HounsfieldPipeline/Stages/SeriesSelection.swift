import HounsfieldDICOM

/// Decides what becomes of each discovered series before any pixel is read: filtered (the configuration's
/// filters), another process's (a static split), already published (resume), or planned for processing. The batch
/// run, the per-study API and every service source select with this one type, so they agree on what is processed.
public struct SeriesSelection: Sendable {
    /// The per-series work, whose filters and keys decide.
    public let processor: SeriesProcessor
    /// This process's share of a static split.
    public let split: StaticSplit

    /// A selection with `processor`'s filters and keys, keeping the series of `split`.
    public init(processor: SeriesProcessor, split: StaticSplit = .whole) {
        self.processor = processor
        self.split = split
    }

    /// What was decided for the series of one scan.
    public struct Decision: Sendable {
        /// The series to process, in key order (so a run's order, and with one job its shards, are reproducible).
        public var planned: [SeriesPlan]
        /// Series not processed, with their status (`filtered`, `other_shard`, `resumed`) and reason.
        public var skipped: [RunReport.SeriesOutcome]
    }

    /// Selects among discovered series (of `item`; `labels` are the label objects found with them, each given to the
    /// series it labels, holding `version` of its series: see ``WorkItem/version``).
    /// `isPublished` says whether a key is already in the output (resume); pass `{ _ in false }` when nothing is
    /// written.
    public func select(
        _ series: [SeriesDescriptor], labels: [any LabelSource] = [], item: String, version: Int = 1,
        isPublished: (String) -> Bool
    ) -> Decision {
        var decision = Decision(planned: [], skipped: [])
        let suffix = version > 1 ? "-v\(version)" : ""
        let keyed = series.map { (key: processor.key(for: $0) + suffix, series: $0) }.sorted { $0.key < $1.key }
        for (key, series) in keyed {
            var report = RunReport.SeriesOutcome(
                key: key, description: series.seriesDescription, modality: series.modality, status: .planned,
                slices: series.slices.count, seconds: [:], warnings: series.warnings.map(\.message), attempts: 0)
            if let reason = processor.rejection(of: series) {
                report.status = .filtered
                report.reason = reason
            } else if !split.contains(identityHash: processor.hash(series.key)) {
                report.status = .otherShard
            } else if isPublished(key) {
                report.status = .resumed
            } else {
                var planned = plan(series, key: key, item: item, report: report)
                planned.labels = processor.configuration.labels.pair ? labels.filter { $0.labels(series) } : []
                decision.planned.append(planned)
                continue
            }
            decision.skipped.append(report)
        }
        return decision
    }

    /// The plan of one series, whatever the filters say: its key, and whether it streams — decided here, once.
    public func plan(_ series: SeriesDescriptor, item: String = "") -> SeriesPlan {
        let key = processor.key(for: series)
        let report = RunReport.SeriesOutcome(
            key: key, description: series.seriesDescription, modality: series.modality, status: .planned,
            slices: series.slices.count, seconds: [:], warnings: series.warnings.map(\.message), attempts: 0)
        return plan(series, key: key, item: item, report: report)
    }

    private func plan(_ series: SeriesDescriptor, key: String, item: String, report: RunReport.SeriesOutcome) -> SeriesPlan {
        // A series that cannot stream (or whose reject policy throws) is decoded whole, where the decode stage
        // reports the error with its file.
        let streams = (try? processor.streams(series)) ?? false
        return SeriesPlan(series: series, key: key, item: item, streams: streams, report: report)
    }
}
