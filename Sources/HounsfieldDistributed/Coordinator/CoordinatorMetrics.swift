import Metrics

/// The coordinator's metrics, through swift-metrics (whatever backend the process bootstrapped; the `hounsfield`
/// command exports them for Prometheus on `--metrics`). Unit counts by state are gauges set from the journal at
/// every tick; the rest are counters.
struct CoordinatorMetrics: Sendable {
    private let leases = Counter(label: "hounsfield_coordinator_leases_total")
    private let expired = Counter(label: "hounsfield_coordinator_leases_expired_total")
    private let refusals = Counter(label: "hounsfield_coordinator_results_refused_total")
    private let series = Counter(label: "hounsfield_coordinator_series_total", dimensions: [("status", "written")])
    private let failedSeries = Counter(label: "hounsfield_coordinator_series_total", dimensions: [("status", "failed")])
    private let quarantines = Counter(label: "hounsfield_coordinator_units_quarantined_total")
    private let workers = Gauge(label: "hounsfield_coordinator_workers")
    private let units: [UnitState.Kind: Gauge] = Dictionary(uniqueKeysWithValues: UnitState.Kind.allCases.map {
        ($0, Gauge(label: "hounsfield_coordinator_units", dimensions: [("state", $0.rawValue)]))
    })

    func leased(_ lease: Lease) { leases.increment() }
    func expired(_ count: Int) { expired.increment(by: count) }
    func refused() { refusals.increment() }
    func quarantined() { quarantines.increment() }
    func completed(series written: Int, failed: Int, worker: String) {
        series.increment(by: written)
        failedSeries.increment(by: failed)
        // Per worker, so that `rate(…[5m])` shows each worker's pace (a slow node stands out). One series per
        // worker name: bounded by the run's workers.
        Counter(label: "hounsfield_coordinator_units_completed_total", dimensions: [("worker", worker)]).increment()
    }
    func sessions(_ count: Int) { workers.record(count) }
    func units(_ counts: UnitCounts) {
        for (kind, gauge) in units { gauge.record(counts[kind]) }
    }
}
