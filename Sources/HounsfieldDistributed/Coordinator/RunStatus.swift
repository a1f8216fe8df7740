import Foundation

/// Where a coordinated run stands, read from its journal (which a running coordinator keeps writing: SQLite's WAL
/// lets this read alongside): `hounsfield coordinator status`.
public struct RunStatus: Sendable, Encodable {
    /// One worker that holds leases now.
    public struct WorkerLeases: Sendable, Encodable {
        /// The worker's name.
        public var worker: String
        /// Units it holds.
        public var leases: Int
        /// Seconds until its earliest lease expires without a heartbeat (negative: expired, not yet taken back).
        public var secondsToDeadline: Double
    }

    /// Units by state.
    public var units: UnitCounts
    /// Series written so far.
    public var written: Int
    /// Units completed per minute over the last `window` minutes.
    public var unitsPerMinute: Double
    /// The window the rate is measured over, in minutes.
    public var windowMinutes: Double
    /// Minutes until every unit is settled at that rate; nil when nothing completed recently.
    public var etaMinutes: Double?
    /// Workers holding leases now.
    public var workers: [WorkerLeases]
    /// Quarantined study folders.
    public var quarantined: [String]

    /// Reads the status from `journal` as of `now`; the rate is measured over the last `window`.
    public init(journal: Journal, now: Date = Date(), window: TimeInterval = 600) throws {
        units = try journal.counts()
        written = try journal.writtenCount()
        windowMinutes = window / 60
        unitsPerMinute = Double(try journal.completions(since: now.addingTimeInterval(-window))) / windowMinutes
        let left = units.pending + units.leased
        etaMinutes = unitsPerMinute > 0 ? Double(left) / unitsPerMinute : (left == 0 ? 0 : nil)
        let leases = try journal.leases()
        workers = Dictionary(grouping: leases, by: \.worker).map { worker, held in
            WorkerLeases(worker: worker, leases: held.count,
                         secondsToDeadline: (held.map(\.deadline).min() ?? now).timeIntervalSince(now))
        }.sorted { $0.worker < $1.worker }
        quarantined = try journal.quarantined().map(\.unit.path)
    }

    /// The status as a few lines for a terminal.
    public var rendered: String {
        let total = max(units.total, 1)
        var lines = [
            "units: \(units.done) of \(units.total) done (\(100 * units.done / total)%), \(units.leased) leased, \(units.pending) pending, \(units.quarantined) quarantined, \(units.failed) failed; \(written) series written",
            String(format: "rate: %.1f units/min over the last %.0f min", unitsPerMinute, windowMinutes)
                + (etaMinutes.map { String(format: "; about %.0f min left", $0) } ?? "; no unit completed recently"),
            "workers holding leases: \(workers.count)",
        ]
        for worker in workers {
            lines.append(String(format: "  %@: %d lease(s), next deadline in %.0f s", worker.worker, worker.leases, worker.secondsToDeadline))
        }
        if !quarantined.isEmpty { lines.append("quarantined: " + quarantined.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case units, written, unitsPerMinute = "units_per_minute", windowMinutes = "window_minutes"
        case etaMinutes = "eta_minutes", workers, quarantined
    }
}

extension RunStatus.WorkerLeases {
    enum CodingKeys: String, CodingKey {
        case worker, leases, secondsToDeadline = "seconds_to_deadline"
    }
}
