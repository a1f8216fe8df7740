import Foundation
import Hounsfield

/// The human-readable form of an inspection report: one line per series, then warnings and exclusions.
struct InspectionTable {
    let report: InspectionReport

    init(_ report: InspectionReport) { self.report = report }

    var rendered: String {
        var lines: [String] = []
        let header = ["#", "modality", "files", "size", "spacing (mm)", "syntax", "HU min/mean/max", "description"]
        var rows: [[String]] = []
        for (index, series) in report.series.enumerated() {
            let hu = series.hu.map { String(format: "%.0f/%.1f/%.0f", $0.min, $0.mean, $0.max) } ?? "-"
            rows.append([
                "\(index + 1)", series.modality ?? "?", "\(series.files)",
                series.size.map(String.init).joined(separator: "×"),
                series.spacing.map { String(format: "%.3g", $0) }.joined(separator: " × "),
                series.transferSyntaxes.map(TransferSyntaxNames.short).joined(separator: ","), hu,
                String((series.description ?? "").prefix(40)),
            ])
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.append(line(header))
        lines.append(line(widths.map { String(repeating: "─", count: $0) }))
        lines += rows.map(line)
        lines.append("")
        lines.append("\(report.series.count) series from \(report.files) files; \(report.excluded.count) excluded")
        for (index, series) in report.series.enumerated() {
            let messages = series.warnings.map { "warning: \($0.message)" }
                + (series.corrected?.corrections.map { "run will: \($0)" } ?? [])
            guard !messages.isEmpty else { continue }
            lines.append("")
            lines.append("#\(index + 1) \(series.key)")
            lines += messages.map { "  " + $0 }
        }
        if !report.labels.isEmpty {
            lines.append("")
            lines.append("labels:")
            for label in report.labels {
                let what = switch label.kind {
                case .segmentation: "SEG \(label.segmentationType ?? "")"
                case .structureSet: "RTSTRUCT"
                case .niftiLabelMap: "NIfTI label map"
                }
                let index = report.series.firstIndex { $0.key == label.seriesKey }
                let target = index.map { "series #\($0 + 1)" } ?? "no series"
                lines.append("  \(label.file): \(what) on \(target), \(label.classes.count) class(es)")
                lines += label.classes.map { "    \($0.value) \($0.name)" }
            }
        }
        if !report.excluded.isEmpty {
            lines.append("")
            lines.append("excluded:")
            lines += report.excluded.map { "  \($0.file): \($0.reason)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Short names for transfer syntax UIDs, for the table.
enum TransferSyntaxNames {
    static func short(_ uid: String) -> String {
        [
            "1.2.840.10008.1.2": "implicit", "1.2.840.10008.1.2.1": "explicit", "1.2.840.10008.1.2.2": "big-endian",
            "1.2.840.10008.1.2.1.99": "deflated", "1.2.840.10008.1.2.4.50": "jpeg-baseline",
            "1.2.840.10008.1.2.4.51": "jpeg-12bit", "1.2.840.10008.1.2.4.57": "jpeg-lossless",
            "1.2.840.10008.1.2.4.70": "jpeg-lossless", "1.2.840.10008.1.2.4.80": "jpeg-ls",
            "1.2.840.10008.1.2.4.81": "jpeg-ls-near", "1.2.840.10008.1.2.5": "rle",
            "1.2.840.10008.1.2.4.90": "j2k-lossless", "1.2.840.10008.1.2.4.91": "j2k",
        ][uid] ?? uid
    }
}
