import Foundation
import HounsfieldHDF5

/// Turns a service's events into a ``RunReport``: every series with its status, stage times and failure; the
/// excluded files; the shards published. A series counts as written only once its shard is published: one whose
/// shard never was (a failed publication) is reported as failed at `write`, so a resume processes it again.
public struct RunReportSink: Sendable {
    private var outcomes: [String: RunReport.SeriesOutcome] = [:]
    private var writtenInto: [String: String] = [:]
    private var excluded: [RunReport.Excluded] = []
    private var published: [String: Set<String>] = [:]
    private var shards: [String] = []
    private var bytes = 0
    /// What discovery found, item by item.
    public private(set) var discoveries: [PipelineEvent.Discovery] = []

    /// Whether some series were cut short or never started (a shutdown or a cancellation).
    public var hasCancelledSeries: Bool { outcomes.values.contains { $0.status == .cancelled } }

    /// An empty report.
    public init() {}

    /// Takes one event into the report.
    public mutating func record(_ event: PipelineEvent) {
        switch event {
        case .discovered(let discovery):
            discoveries.append(discovery)
            excluded += discovery.excluded
        case .outcome(let outcome):
            outcomes[outcome.report.key] = outcome.report
            if let shard = outcome.shard { writtenInto[outcome.report.key] = shard }
            bytes += outcome.bytes
        case .published(let publication):
            published[publication.shard, default: []].formUnion(publication.keys)
            shards.append(publication.shard)
        case .itemFinished:
            break
        }
    }

    /// Adds `planned` series that got no outcome (a cancelled run's untouched series), as they are.
    public mutating func fill(_ planned: [RunReport.SeriesOutcome]) {
        for outcome in planned where outcomes[outcome.key] == nil { outcomes[outcome.key] = outcome }
    }

    /// The report, as of the events recorded. `publishFailure` is why the last shard could not be published.
    public func report(configuration: RunConfiguration, output: URL, started: Date, seconds: Double, dryRun: Bool,
                       cancelled: Bool, estimated: Int? = nil, publishFailure: String? = nil) -> RunReport {
        var outcomes = self.outcomes
        for (key, outcome) in outcomes where outcome.status == .written {
            guard let shard = writtenInto[key], published[shard]?.contains(key) == true else {
                outcomes[key]?.status = .failed
                outcomes[key]?.stage = "write"
                outcomes[key]?.error = publishFailure.map { "its shard could not be published: \($0)" } ?? "its shard was not published"
                continue
            }
        }
        let series = outcomes.values.sorted { $0.key < $1.key }
        var counts: [String: Int] = [:]
        for outcome in series { counts[outcome.status.rawValue, default: 0] += 1 }
        counts["excluded_files"] = excluded.count
        return RunReport(
            tool: ShardFormat.softwareVersion, configurationKey: configuration.key, output: output.path,
            started: ISO8601DateFormatter().string(from: started), seconds: seconds, dryRun: dryRun, cancelled: cancelled,
            filesRead: discoveries.reduce(0) { $0 + $1.files }, counts: counts, bytesWritten: bytes, estimatedBytes: estimated, series: series,
            excluded: excluded, shards: Array(Set(shards)).sorted(), execution: configuration.execution)
    }
}
