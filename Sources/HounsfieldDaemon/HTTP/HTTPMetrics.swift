import Metrics
import Prometheus

/// What the HTTP API records through swift-metrics, all named `hounsfield_http_…`: requests by endpoint and status,
/// the time to answer a study, the admission queue, and bytes received. With a Prometheus registry the metrics go
/// into it (so `/metrics` shows them whether or not the process bootstrapped swift-metrics with it); without one,
/// into whatever the process bootstrapped.
struct HTTPMetrics: Sendable {
    private let factory: any MetricsFactory
    private let studySeconds: Metrics.Timer
    private let queueDepth: Metrics.Gauge
    private let processing: Metrics.Gauge
    private let receivedBytes: Metrics.Counter

    /// Metrics recorded into `registry`, or into the bootstrapped system when nil.
    init(registry: PrometheusCollectorRegistry?) {
        if let registry {
            var prometheus = PrometheusMetricsFactory(registry: registry)
            // A study answers in a fraction of a second to minutes.
            prometheus.durationHistogramBuckets["hounsfield_http_study_seconds"] = [
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
            ]
            factory = prometheus
        } else {
            factory = MetricsSystem.factory
        }
        studySeconds = Metrics.Timer(label: "hounsfield_http_study_seconds", dimensions: [], factory: factory)
        queueDepth = Metrics.Gauge(label: "hounsfield_http_queue_depth", dimensions: [], factory: factory)
        processing = Metrics.Gauge(label: "hounsfield_http_studies_processing", dimensions: [], factory: factory)
        receivedBytes = Metrics.Counter(label: "hounsfield_http_received_bytes_total", dimensions: [], factory: factory)
    }

    /// One answered request.
    func answered(endpoint: String, status: Int) {
        Metrics.Counter(label: "hounsfield_http_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))],
                factory: factory).increment()
    }

    /// The time a study request took, from its head to its answer.
    func study(took duration: Duration) {
        studySeconds.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Body bytes received.
    func received(_ bytes: Int) { receivedBytes.increment(by: Int64(bytes)) }

    /// The gate's state now.
    func gate(processing now: Int, waiting: Int) {
        processing.record(now)
        queueDepth.record(waiting)
    }
}
