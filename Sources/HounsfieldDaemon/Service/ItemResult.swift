import Foundation
import HounsfieldPipeline

/// What became of one item the daemon took in, as the spool records it and the watch folder's reason file says.
struct ItemResult {
    /// processed (some volume written or already there), failed (every series failed), or empty (no series was
    /// selected: not CT, filtered, or not DICOM).
    let summary: String
    /// Why nothing was written, as a sentence (empty when something was).
    let reason: String
    let written: Int
    let failed: Int
    /// The outcomes as JSON, for the spool's record.
    let json: String

    init(_ item: ItemTracker.Item) {
        let reports = item.outcomes.map(\.report)
        written = reports.filter { $0.status == .written || $0.status == .resumed }.count
        failed = reports.filter { $0.status == .failed }.count
        if written > 0 {
            summary = "processed"
            reason = ""
        } else if failed > 0 {
            summary = "failed"
            reason = reports.filter { $0.status == .failed }
                .map { "\($0.key): \($0.error ?? "failed")\($0.file.map { " (\($0))" } ?? "")" }.joined(separator: "; ")
        } else {
            summary = "empty"
            let discovery = item.discovery
            let skipped = reports.compactMap { report in report.reason.map { "\(report.key): \($0)" } }
            reason = discovery?.error ?? discovery?.noSeriesMessage
                ?? (skipped.isEmpty ? "no series was found" : "no series was selected: " + skipped.joined(separator: "; "))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let record = Record(result: summary, reason: reason.isEmpty ? nil : reason, series: reports,
                            shards: item.shards.sorted())
        json = (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private struct Record: Encodable {
        var result: String
        var reason: String?
        var series: [RunReport.SeriesOutcome]
        var shards: [String]
    }
}
