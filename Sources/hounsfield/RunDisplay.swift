import Foundation
import Hounsfield
import Synchronization

/// The live view of a run on standard error: a redrawn bar on a terminal, a plain line every 10 s otherwise.
final class RunDisplay: Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex<(last: ContinuousClock.Instant?, shown: Bool)>((nil, false))

    @Sendable func planned(_ pending: Int, _ resumed: Int) {
        let line = "processing \(pending) series" + (resumed > 0 ? " (\(resumed) already published, skipped)" : "")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    @Sendable func update(_ progress: RunProgress) {
        let now = ContinuousClock.now
        state.withLock { state in
            let interval: Duration = isTerminal ? .milliseconds(200) : .seconds(10)
            if let last = state.last, now - last < interval, progress.done < progress.total { return }
            state.last = now
            state.shown = true
            let width = 24
            let filled = progress.total > 0 ? width * progress.done / progress.total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let eta = progress.estimatedSecondsLeft.map { String(format: "ETA %.0f s", $0) } ?? "ETA –"
            let failed = progress.failed > 0 ? ", \(progress.failed) failed" : ""
            let text = String(format: "series %d/%d %@ %.2f vol/s %.0f MB/s %@%@", progress.done, progress.total, bar,
                              progress.volumesPerSecond, progress.megabytesPerSecond, eta, failed)
            FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + text + (isTerminal ? "" : "\n")).utf8))
        }
    }

    func finish() {
        state.withLock { state in
            if state.shown && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            state.shown = false
        }
    }
}

/// The table printed at the end of a run.
struct RunSummary {
    let report: RunReport

    init(_ report: RunReport) { self.report = report }

    var rendered: String {
        var lines: [String] = []
        let order = ["written", "resumed", "planned", "failed", "filtered", "other_shard", "cancelled", "not_processed"]
        let counts = order.compactMap { key in report.counts[key].map { "\($0) \(key.replacingOccurrences(of: "_", with: " "))" } }
        lines.append((report.dryRun ? "plan: " : "done: ") + (counts.isEmpty ? "no series found" : counts.joined(separator: ", ")))
        if let excluded = report.counts["excluded_files"], excluded > 0 { lines.append("files that form no series: \(excluded) (see report)") }
        let shown = report.series.filter { $0.status == .written || $0.status == .planned || $0.status == .failed }
        if !shown.isEmpty {
            lines.append("")
            lines.append(pad("key", 26) + pad("status", 9) + pad("shape (z,y,x)", 16) + pad("seconds", 9) + "description / error")
            for series in shown.prefix(50) {
                let shape = series.shape.map { $0.map(String.init).joined(separator: "×") } ?? "–"
                let seconds = series.seconds.values.reduce(0, +)
                let note = series.status == .failed ? "\(series.stage ?? "?"): \(series.error ?? "")" : (series.description ?? "")
                lines.append(pad(series.key, 26) + pad(series.status.rawValue, 9) + pad(shape, 16)
                             + pad(seconds > 0 ? String(format: "%.2f", seconds) : "–", 9) + note)
            }
            if shown.count > 50 { lines.append("… \(shown.count - 50) more in report.json") }
        }
        for series in report.series where series.status == .filtered {
            lines.append("skipped \(series.key): \(series.reason ?? "")")
        }
        lines.append("")
        if report.dryRun {
            lines.append("estimated output: \(ByteSize.format(report.estimatedBytes ?? 0)) before compression")
        } else {
            lines.append(String(format: "%.1f s; %@ of voxels written into %d shard(s) in %@", report.seconds,
                                ByteSize.format(report.bytesWritten), report.shards.count, report.output))
            let name = report.execution?.writerName.map { "report-\($0).json" } ?? "report.json"
            let path = "\(report.output)/\(name)"
            lines.append(FileManager.default.fileExists(atPath: path) ? "report: \(path)" : "report: on standard error (\(path) could not be written)")
        }
        if let failure = report.outputFailure {
            lines.append("")
            lines.append("the output failed: \(failure.path): \(failure.operation) failed: \(failure.cause)")
            lines.append("published shards are intact and listed in the manifest; the unfinished shard stays .partial.")
            lines.append("Free space (or fix the folder), then rerun with --resume to process the rest.")
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
