import Metrics

/// The daemon's metrics, for Prometheus (`GET /metrics`). The pipeline's own (`hounsfield_stage_seconds`,
/// `hounsfield_series_total`, …) come beside these.
struct DaemonMetrics: Sendable {
    /// Instances taken into the spool, by what happened: stored, repeated, conflict.
    func received(_ outcome: IntakeOutcome) -> Counter {
        let name = switch outcome {
        case .stored: "stored"
        case .repeated: "repeated"
        case .conflict: "conflict"
        }
        return Counter(label: "hounsfield_instances_received_total", dimensions: [("outcome", name)])
    }
    /// Instances refused (the sender was told to retry), by reason.
    func refused(_ error: IntakeError) -> Counter {
        let name = switch error {
        case .spoolFull: "spool_full"
        case .writeFailed: "write_failed"
        }
        return Counter(label: "hounsfield_instances_refused_total", dimensions: [("reason", name)])
    }
    /// Spooled series and watched studies done, by result: processed (something written), failed, empty.
    func itemDone(source: String, result: String) -> Counter {
        Counter(label: "hounsfield_items_done_total", dimensions: [("source", source), ("result", result)])
    }
    /// From the last instance of a series to its volumes published.
    let lastInstanceToShard = Metrics.Timer(label: "hounsfield_last_instance_to_shard_seconds")
    /// Series waiting to be processed (quiet or not yet) plus those in the pipeline.
    let queueDepth = Gauge(label: "hounsfield_intake_queue_depth")
    /// Bytes the spool holds.
    let spoolBytes = Gauge(label: "hounsfield_spool_bytes")
    /// Instances deleted from the spool by its retention.
    let prunedInstances = Counter(label: "hounsfield_spool_pruned_instances_total")
    /// DICOM associations open now.
    let openAssociations = Gauge(label: "hounsfield_dicom_associations_open")
}
