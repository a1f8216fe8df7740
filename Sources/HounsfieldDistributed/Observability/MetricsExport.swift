import Metrics
import Prometheus

/// Prometheus export for a long-running process: every swift-metrics metric the process records goes into one
/// registry, served by a ``PrometheusEndpoint``.
public enum MetricsExport {
    /// Bootstraps swift-metrics with a Prometheus registry (once per process) and returns the endpoint that serves
    /// it on `address`: add it to the process's service group.
    public static func bootstrap(serving address: ServiceAddress) -> PrometheusEndpoint {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return PrometheusEndpoint(registry: registry, address: address)
    }
}
