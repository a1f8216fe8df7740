import Metrics

/// The counters and timers a run reports through swift-metrics (Prometheus names; the daemon exports them).
struct PipelineMetrics: Sendable {
    let written = Counter(label: "hounsfield_series_total", dimensions: [("status", "written")])
    let failed = Counter(label: "hounsfield_series_total", dimensions: [("status", "failed")])
    let voxels = Counter(label: "hounsfield_voxels_written_total")
    let bytes = Counter(label: "hounsfield_bytes_written_total")
    let retries = Counter(label: "hounsfield_retries_total")

    func stage(_ name: String) -> Timer { Timer(label: "hounsfield_stage_seconds", dimensions: [("stage", name)]) }
    func failure(stage: String) -> Counter { Counter(label: "hounsfield_failures_total", dimensions: [("stage", stage)]) }
}
