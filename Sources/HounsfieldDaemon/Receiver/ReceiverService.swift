import Foundation
import HounsfieldDICOM
import Logging
import Metrics
import ServiceLifecycle

/// The daemon's DICOM receiver (C-STORE and C-ECHO SCP) as a service: every instance a sender stores goes into the
/// ``Spool`` — written, synced and recorded — before the sender is told success. When the spool cannot take it
/// (below its free-space watermark, a failed write), the sender is told "out of resources" (0xA700) and keeps the
/// instance to send again.
///
/// On graceful shutdown the receiver stops accepting associations at once, lets those in progress finish for up
/// to ``stopDeadline``, then aborts the rest; an instance not yet acknowledged is sent again by its sender.
public final class ReceiverService: Service, Sendable {
    /// How the receiver listens and whom it lets in.
    public let options: DICOMReceiverOptions
    /// Where instances go.
    public let spool: Spool
    /// How long associations in progress may take to finish at shutdown.
    public let stopDeadline: Duration
    private let logger: Logger
    private let metrics = DaemonMetrics()
    private let listening = PortAnnouncement()

    /// A receiver for `spool`, listening once ``run()`` starts.
    public init(options: DICOMReceiverOptions, spool: Spool, stopDeadline: Duration = .seconds(10),
                logger: Logger = Logger(label: "hounsfield.receiver")) {
        self.options = options
        self.spool = spool
        self.stopDeadline = stopDeadline
        self.logger = logger
    }

    /// The TCP port, once listening (nil if the receiver failed to start, or this task is cancelled first).
    public func port() async -> Int? { await listening.wait() }

    /// Listens until graceful shutdown (or cancellation), then stops. Throws ``DICOMReceiverError`` when it cannot
    /// listen.
    public func run() async throws {
        let spool = self.spool
        let logger = self.logger
        let metrics = self.metrics
        let receiver: DICOMReceiver
        do {
            receiver = try DICOMReceiver(
                options: options, folder: spool.folder.appendingPathComponent("incoming").path, logger: logger
            ) { instance in
                Self.store(instance, in: spool, logger: logger, metrics: metrics)
            }
        } catch {
            listening.end()
            throw error
        }
        listening.announce(receiver.port)
        logger.notice("DICOM receiver listening", metadata: [
            "address": "\(options.host):\(receiver.port)", "ae_title": "\(options.aeTitle)"])
        // Until shutdown, the open associations are published as a gauge.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            metrics.openAssociations.record(receiver.counters.openAssociations)
            try? await Task.sleep(for: .milliseconds(500))
        }
        let aborted = await receiver.stopped(deadline: stopDeadline)
        metrics.openAssociations.record(0)
        logger.notice("DICOM receiver stopped", metadata: ["aborted_associations": "\(aborted)"])
    }

    /// Takes one received instance into the spool and says what to answer: success once durable, out of resources
    /// when it could not be made durable.
    static func store(_ instance: ReceivedInstance, in spool: Spool, logger: Logger, metrics: DaemonMetrics) -> StoreStatus {
        let identity = InstanceIdentity(
            study: instance.studyInstanceUID, series: instance.seriesInstanceUID, instance: instance.sopInstanceUID,
            sopClass: instance.sopClassUID)
        do {
            let outcome = try spool.accept(file: instance.path, as: identity, synced: true)
            metrics.received(outcome).increment()
            if case .conflict(let path, _) = outcome {
                logger.warning("an instance came again with other bytes: kept aside, the first is unchanged", metadata: [
                    "kept_at": "\(path)", "calling_ae": "\(instance.callingAETitle)"])
            }
            return .success
        } catch {
            metrics.refused(error).increment()
            logger.error("instance refused, the sender is told to retry", metadata: [
                "error": "\(error)", "calling_ae": "\(instance.callingAETitle)"])
            return .outOfResources
        }
    }
}
