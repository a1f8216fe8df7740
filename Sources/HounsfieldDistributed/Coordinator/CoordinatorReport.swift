import Foundation

/// `report.json` of a coordinated run: units by state, series by status, and everything a user must look at
/// (failed series with their stage, file and error; quarantined and failed units with every error).
struct CoordinatorReport: Encodable {
    /// A unit that did not complete, with why.
    struct UnitProblem: Encodable {
        var path: String
        var errors: [String]
    }

    var tool = "hounsfield coordinator"
    var configurationKey: String
    var units: [String: Int]
    var series: [String: Int]
    var failures: [SeriesNote]
    var quarantined: [UnitProblem]
    var failedUnits: [UnitProblem]

    init(configurationKey: String, units: UnitCounts, written: Int, notes: [SeriesNote], quarantined: [UnitProblem],
         failedUnits: [UnitProblem]) {
        self.configurationKey = configurationKey
        self.units = Dictionary(uniqueKeysWithValues: UnitState.Kind.allCases.map { ($0.rawValue, units[$0]) })
        var series = ["written": written]
        for note in notes { series[note.status, default: 0] += 1 }
        self.series = series
        self.failures = notes.filter { $0.status == "failed" }
        self.quarantined = quarantined
        self.failedUnits = failedUnits
    }

    enum CodingKeys: String, CodingKey {
        case tool, configurationKey = "configuration_key", units, series, failures, quarantined
        case failedUnits = "failed_units"
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}
