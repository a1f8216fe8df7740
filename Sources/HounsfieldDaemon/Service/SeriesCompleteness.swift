import HounsfieldDICOM

/// Whether a received series looks whole: a sender that pauses mid-series, or loses instances, leaves gaps that
/// the positions (a gap that is a whole multiple of the usual spacing) or the InstanceNumbers (missing numbers in
/// their run) show. A series with gaps waits a while longer for the rest before it is processed.
enum SeriesCompleteness {
    /// A sentence naming the gaps of the series found in `scan`, or nil when none shows.
    static func gaps(in scan: ScanResult) -> String? {
        var found: [String] = []
        for series in scan.series {
            if let missing = series.warnings.first(where: { $0.kind == .missingSlices }) {
                found.append(missing.message)
            }
            let numbers = Set(series.slices.compactMap(\.instanceNumber))
            if let low = numbers.min(), let high = numbers.max(), numbers.count >= 2, high - low + 1 > numbers.count {
                found.append("InstanceNumbers \(low)…\(high) lack \(high - low + 1 - numbers.count)")
            }
        }
        return found.isEmpty ? nil : found.joined(separator: "; ")
    }
}
