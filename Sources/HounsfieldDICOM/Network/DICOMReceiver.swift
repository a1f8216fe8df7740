import CDCMTKShim
import Foundation
import HounsfieldCore
import Logging
import Synchronization

/// A DICOM receiver (C-STORE and C-ECHO SCP) on DCMTK's dcmnet, serving each association on a thread of its own.
///
/// Every instance is written to ``folder`` exactly as it arrived and synced *before* the handler sees it; the
/// handler's answer is the answer the sender gets. A daemon's handler records the instance durably and then returns
/// ``StoreStatus/success``: write, fsync, record, then acknowledge. Whatever the handler does not take (any status
/// other than success or a warning) is deleted before the answer.
///
/// The handler runs on the receiver's threads, up to ``DICOMReceiverOptions/maxAssociations`` at once, and must be
/// synchronous: the sender waits for its answer, and a blocked association thread is what bounds the intake.
public final class DICOMReceiver: Sendable {
    /// Decides about one received, synced instance; called concurrently from association threads.
    public typealias Handler = @Sendable (ReceivedInstance) -> StoreStatus

    /// Where instances are written before the handler takes them.
    public let folder: String
    /// The TCP port listened on.
    public let port: Int
    private let handle: Handle
    private let context: Unmanaged<Context>

    /// Binds and listens; associations are served until ``stop(deadline:)``. Throws ``DICOMReceiverError`` when
    /// the options are wrong, the port is taken or the folder is not writable.
    public init(options: DICOMReceiverOptions, folder: String, logger: Logger, handler: @escaping Handler) throws(DICOMReceiverError) {
        if let problem = options.problem { throw .invalidOptions(problem) }
        let context = Unmanaged.passRetained(Context(handler: handler, logger: logger))
        var error = hf_error()
        var receiver: OpaquePointer?
        let status: hf_status = options.allowedCallingAETitles.withCStrings { titles in
            options.aeTitle.withCString { aeTitle in
                options.host.withCString { host in
                    folder.withCString { spool in
                        var config = hf_receiver_config()
                        config.ae_title = aeTitle
                        config.bind_address = host
                        config.port = UInt16(options.port)
                        config.allowed_calling_ae_titles = titles.baseAddress
                        config.allowed_calling_ae_title_count = titles.count
                        config.max_associations = UInt32(options.maxAssociations)
                        config.max_pdu_size = UInt32(options.maxPDUBytes)
                        config.acse_timeout_seconds = UInt32(options.associationTimeout.components.seconds)
                        config.dimse_timeout_seconds = UInt32(options.idleTimeout.components.seconds)
                        config.spool_directory = spool
                        return hf_receiver_start(&config, receiverStore, receiverLog, context.toOpaque(), &receiver, &error)
                    }
                }
            }
        }
        guard status == HF_OK, let receiver else {
            context.release()
            let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw .cannotListen(host: options.host, port: options.port, reason: message)
        }
        self.folder = folder
        self.context = context
        handle = Handle(receiver)
        port = Int(hf_receiver_bound_port(receiver))
    }

    /// What the receiver did so far.
    public var counters: DICOMReceiverCounters {
        guard let receiver = handle.pointer else {
            return DICOMReceiverCounters(openAssociations: 0, acceptedAssociations: 0, rejectedAssociations: 0,
                                         abortedAssociations: 0, echoes: 0, storedInstances: 0, failedInstances: 0,
                                         storedBytes: 0)
        }
        var raw = hf_receiver_counters()
        hf_receiver_get_counters(receiver, &raw)
        return DICOMReceiverCounters(
            openAssociations: Int(raw.associations_open), acceptedAssociations: Int(raw.associations_accepted),
            rejectedAssociations: Int(raw.associations_rejected), abortedAssociations: Int(raw.associations_aborted),
            echoes: Int(raw.echoes), storedInstances: Int(raw.instances_stored), failedInstances: Int(raw.instances_failed),
            storedBytes: Int(raw.bytes_stored))
    }

    /// Stops taking associations at once, lets those in progress finish for up to `deadline`, then aborts the rest
    /// (a handler call in progress is waited for). Returns how many associations were aborted. Blocks the calling
    /// thread: call it from a thread of its own (see ``stopped(deadline:)``). Later calls return 0.
    @discardableResult
    public func stop(deadline: Duration) -> Int {
        guard let receiver = handle.take() else { return 0 }
        let aborted = Int(hf_receiver_stop(receiver, deadline.inSeconds))
        context.release()
        return aborted
    }

    /// ``stop(deadline:)`` on a thread of its own, so that no task of the cooperative pool blocks while associations
    /// finish.
    @discardableResult
    public func stopped(deadline: Duration) async -> Int {
        await withCheckedContinuation { continuation in
            let thread = Thread { [self] in continuation.resume(returning: stop(deadline: deadline)) }
            thread.name = "dicom-receiver-stop"
            thread.start()
        }
    }

    deinit { stop(deadline: .zero) }

    /// The handler and logger, kept alive for the C callbacks while the receiver runs.
    fileprivate final class Context: Sendable {
        let handler: Handler
        let logger: Logger
        init(handler: @escaping Handler, logger: Logger) {
            self.handler = handler
            self.logger = logger
        }
    }

    /// The C receiver, taken exactly once by whoever stops it. Kept as its address (pointers are not `Sendable`);
    /// the C side is thread-safe for the counters, and only the one caller that takes it stops it.
    private final class Handle: Sendable {
        private let address: Mutex<UInt>
        init(_ pointer: OpaquePointer) { address = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(pointer)))) }
        var pointer: OpaquePointer? { OpaquePointer(bitPattern: address.withLock { $0 }) }
        func take() -> OpaquePointer? { OpaquePointer(bitPattern: address.withLock { value in defer { value = 0 }; return value }) }
    }
}

private extension Array where Element == String {
    /// Calls `body` with the strings as a C array valid during the call.
    func withCStrings<R>(_ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer(body)
    }
}

private func string(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }

/// The C store callback: hands the instance to the Swift handler and answers what it returns.
private let receiverStore: hf_receiver_store_fn = { context, instance in
    guard let context, let instance else { return StoreStatus.outOfResources.rawValue }
    let owner = Unmanaged<DICOMReceiver.Context>.fromOpaque(context).takeUnretainedValue()
    let received = ReceivedInstance(
        callingAETitle: string(instance.pointee.calling_ae_title), peerAddress: string(instance.pointee.peer_address),
        sopClassUID: string(instance.pointee.sop_class_uid), sopInstanceUID: string(instance.pointee.sop_instance_uid),
        studyInstanceUID: string(instance.pointee.study_instance_uid),
        seriesInstanceUID: string(instance.pointee.series_instance_uid),
        transferSyntaxUID: string(instance.pointee.transfer_syntax_uid), path: string(instance.pointee.path),
        bytes: Int(instance.pointee.size), association: instance.pointee.association_id)
    return owner.handler(received).rawValue
}

/// The C log callback: the receiver's rejections, aborts and write failures, through swift-log.
private let receiverLog: hf_receiver_log_fn = { context, level, message in
    guard let context, let message else { return }
    let logger = Unmanaged<DICOMReceiver.Context>.fromOpaque(context).takeUnretainedValue().logger
    let text = String(cString: message)
    switch level {
    case HF_RECEIVER_LOG_ERROR: logger.error("\(text)")
    case HF_RECEIVER_LOG_WARNING: logger.warning("\(text)")
    default: logger.info("\(text)")
    }
}
