import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HounsfieldCore
import HounsfieldHDF5
import HounsfieldPipeline
import HounsfieldProtocol
import Logging
import ServiceLifecycle
import Synchronization

/// One session of a worker with its coordinator: Hello, Welcome, then units in and completions out until the
/// coordinator drains the worker, the worker is stopped, or the connection is lost.
///
/// Inside, a ``PipelineService`` runs on the units as they are assigned (each a ``WorkItem`` of one study folder),
/// publishing its shard at every unit's end. Its events feed a ``UnitTracker``; a unit whose series all have their
/// outcome and whose volumes are all published is reported complete. Heartbeats go out on their own task every
/// interval the Welcome gave, so decoding never delays them; every message to the coordinator goes through one
/// outbox, written by one task.
final class WorkerSessionRun: Sendable {
    /// How a session ended.
    enum Ending: Sendable {
        /// The coordinator said drain and everything held was reported.
        case drained
        /// The worker was shut down gracefully and reported or handed back what it held.
        case stopped
        /// The connection failed or the coordinator went away.
        case lost(String)
    }

    private let options: WorkerOptions
    private let logger: Logger
    private let welcomed = Mutex<Duration?>(nil)
    private let drained = Atomic<Bool>(false)

    init(options: WorkerOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// The lease TTL the coordinator's Welcome gave, when this session was welcomed.
    var welcomedTTL: Duration? { welcomed.withLock { $0 } }

    func run() async throws -> Ending {
        let address = options.coordinator
        // An address literal is given as one (not as a name): TLS then leaves the SNI out, which may not hold an
        // IP address, and checks the certificate's IP entries instead.
        let target: any ResolvableTarget =
            if address.isIPv6 { .ipv6(address: address.host, port: address.port) }
            else if address.isIPv4 { .ipv4(address: address.host, port: address.port) }
            else { .dns(host: address.host, port: address.port) }
        let security: HTTP2ClientTransport.Posix.TransportSecurity =
            switch options.security {
            case .plaintext: .plaintext
            case .tls: .tls
            case .tlsTrusting(let file): .tls { $0.trustRoots = .certificates([.file(path: file, format: .pem)]) }
            }
        return try await withGRPCClient(
            transport: .http2NIOPosix(target: target, transportSecurity: security)
        ) { client in
            let coordinator = CoordinatorRPC.Client(wrapping: client)
            // The first reply (Welcome or Refused) and the rest travel apart, so each stream has one reader.
            let (firstReply, deliverFirst) = AsyncStream.makeStream(of: CoordinatorMessage.self)
            let (inbox, deliver) = AsyncStream.makeStream(of: CoordinatorMessage.self)
            let metadata = options.token.map { TokenAuthentication.metadata(token: $0) } ?? [:]
            let lost = Mutex<String?>(nil)
            // Fail fast when the connection cannot be made (a wrong address, plaintext against TLS): the worker's
            // own backoff retries, and gives up after `giveUpAfter` instead of waiting in gRPC's queue forever.
            var callOptions = CallOptions.defaults
            callOptions.waitForReady = false
            try await coordinator.session(metadata: metadata, options: callOptions) { writer in
                try await self.converse(writer: writer, firstReply: firstReply, inbox: inbox)
            } onResponse: { response in
                defer {
                    deliverFirst.finish()
                    deliver.finish()
                }
                do {
                    var first = true
                    for try await message in response.messages {
                        if first {
                            deliverFirst.yield(message)
                            deliverFirst.finish()
                            first = false
                        } else {
                            deliver.yield(message)
                        }
                    }
                } catch {
                    if let rpc = error as? RPCError, rpc.code == .unauthenticated || rpc.code == .alreadyExists { throw rpc }
                    lost.withLock { $0 = String(describing: error) }
                }
            }
            if drained.load(ordering: .acquiring) { return .drained }
            if Task.isShuttingDownGracefully { return .stopped }
            return .lost(lost.withLock { $0 } ?? "the coordinator closed the session")
        }
    }

    /// The worker's side of the stream.
    private func converse(
        writer: RPCWriter<WorkerMessage>, firstReply: AsyncStream<CoordinatorMessage>,
        inbox: AsyncStream<CoordinatorMessage>
    ) async throws {
        try await writer.write(.with {
            $0.hello = .with {
                $0.workerName = options.name
                $0.capacity = UInt32(options.effectiveCapacity)
                $0.memoryBytes = ProcessInfo.processInfo.physicalMemory
                $0.softwareVersion = ShardFormat.softwareVersion
            }
        })
        var replies = firstReply.makeAsyncIterator()
        guard let first = await replies.next() else { return }
        let welcome: Hounsfield_Distributed_V1_Welcome
        switch first.kind {
        case .welcome(let message): welcome = message
        case .refused(let refused): throw WorkerError.refused(refused.detail)
        default: throw WorkerError.refused("the coordinator did not answer Hello with Welcome")
        }
        let ttl = Duration.milliseconds(Int64(welcome.leaseTtlMs))
        welcomed.withLock { $0 = ttl }
        let configuration = try configuration(from: welcome)
        logger.notice("welcomed", metadata: [
            "output": "\(welcome.outputFolder)", "configuration_key": "\(configuration.key.prefix(12))",
            "lease_ttl_s": "\(welcome.leaseTtlMs / 1000)"])

        let (items, feed) = AsyncStream.makeStream(of: WorkItem.self)
        let pipeline = try pipeline(configuration: configuration, items: items)
        let (outbox, send) = AsyncStream.makeStream(of: WorkerMessage.self)
        let tracker = SharedTracker()
        let heartbeat = Duration.milliseconds(Int64(max(welcome.heartbeatIntervalMs, 200)))

        // The only task that writes to the stream; it is not cancelled, so every queued message goes out.
        async let writing: Void = {
            for await message in outbox { try await writer.write(message) }
        }()
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {  // the pipeline
                do { try await pipeline.run() } catch {
                    self.logger.error("the pipeline stopped", metadata: ["error": "\(error)"])
                }
                return false
            }
            group.addTask {  // its events: completions
                for await event in pipeline.events {
                    let ready = tracker.state.withLock { tracker -> [UnitTracker.Unit] in
                        tracker.record(event)
                        return tracker.takeReady()
                    }
                    for unit in ready { send.yield(self.report(unit)) }
                }
                for unit in tracker.state.withLock({ $0.takeAll() }) { send.yield(self.handBack(unit)) }
                return true
            }
            group.addTask {  // heartbeats, on their own task
                var sequence: UInt64 = 0
                while !Task.isCancelled {
                    do { try await Task.sleep(for: heartbeat) } catch { break }
                    sequence += 1
                    let held = tracker.state.withLock { $0.held }
                    let number = sequence
                    send.yield(.with {
                        $0.heartbeat = .with {
                            $0.sequence = number
                            $0.leases = held.map { lease in .with { $0.unitID = lease.unit; $0.epoch = lease.epoch } }
                        }
                    })
                }
                return false
            }
            group.addTask {  // the coordinator's messages
                for await message in inbox {
                    switch message.kind {
                    case .assign(let assign):
                        FaultInjection.checkAssignment(path: assign.studyFolder, logger: self.logger)
                        let id = tracker.state.withLock {
                            $0.assigned(unit: assign.unitID, epoch: assign.epoch, path: assign.studyFolder)
                        }
                        self.logger.debug("unit assigned", metadata: ["unit": "\(assign.unitID)", "epoch": "\(assign.epoch)"])
                        feed.yield(WorkItem(id: id, source: .paths([assign.studyFolder])))
                    case .revoke(let revoke):
                        tracker.state.withLock { $0.revoke(unit: revoke.unitID, epoch: revoke.epoch) }
                        self.logger.notice("lease revoked", metadata: ["unit": "\(revoke.unitID)", "reason": "\(revoke.reason)"])
                    case .refused(let refused):
                        tracker.state.withLock { $0.revoke(unit: refused.unitID, epoch: refused.epoch) }
                        self.logger.warning("result refused", metadata: ["unit": "\(refused.unitID)", "detail": "\(refused.detail)"])
                    case .drain(let drain):
                        self.drained.store(true, ordering: .releasing)
                        self.logger.notice("draining", metadata: ["reason": "\(drain.reason)"])
                        feed.finish()
                    case .welcome, .none:
                        break
                    }
                }
                // The coordinator is gone: stop now (its leases will expire and go to other workers).
                if !self.drained.load(ordering: .acquiring) { return true }
                return false
            }
            // Graceful shutdown: the pipeline sees it itself (it stops taking units and finishes what is in
            // flight); the events task then reports or hands back everything.
            for await endsSession in group where endsSession {
                group.cancelAll()
            }
        }
        feed.finish()
        send.finish()
        try await writing
    }

    /// The pipeline service over the assigned units, or (``WorkerOptions/simulatedUnitTime``) a stand-in that
    /// sleeps per unit and reports it finished with no series.
    private func pipeline(
        configuration: RunConfiguration, items: AsyncStream<WorkItem>
    ) throws -> (run: @Sendable () async throws -> Void, events: BoundedChannel<PipelineEvent>) {
        if let simulated = options.simulatedUnitTime {
            let events = BoundedChannel<PipelineEvent>(capacity: 64)
            return ({
                defer { events.finish() }
                for await item in items.cancelOnGracefulShutdown() {
                    try? await Task.sleep(for: simulated)
                    guard !Task.isCancelled else { return }
                    await events.send(.itemFinished(item.id), bytes: 0)
                }
            }, events)
        }
        do {
            let service = try PipelineService(
                configuration: configuration, input: items, logger: logger, publishWhenIdle: .seconds(5),
                publishesEachItem: true, coordinatedOutput: true)
            return ({ try await service.run() }, service.events)
        } catch {
            throw WorkerError.setup("the coordinator's configuration cannot run here: \(error)")
        }
    }

    /// The worker's view of the run's configuration: the coordinator's, writing under this worker's name.
    private func configuration(from welcome: Hounsfield_Distributed_V1_Welcome) throws -> RunConfiguration {
        do {
            var configuration = try ConfigurationFile.parse(welcome.configurationJson, file: "the coordinator's configuration")
            configuration.output.folder = welcome.outputFolder
            configuration.execution.writerName = options.name
            configuration.execution.resume = true
            if let jobs = options.jobs { configuration.execution.jobs = jobs }
            try configuration.validate()
            return configuration
        } catch {
            throw WorkerError.setup("the coordinator's configuration cannot run here: \(error)")
        }
    }

    /// Complete for a finished unit; a unit cut short (a series cancelled, not processed, or failed at the write
    /// stage: the output's fault, not the study's) or one whose folder could not be read is handed back or failed
    /// instead.
    private func report(_ unit: UnitTracker.Unit) -> WorkerMessage {
        if let error = unit.discoveryError {
            return .with {
                $0.fail = .with {
                    $0.unitID = unit.id
                    $0.epoch = unit.epoch
                    $0.error = "cannot read the study folder \(unit.path): \(error)"
                }
            }
        }
        if unit.wasInterrupted {
            return handBack(unit)
        }
        return .with {
            $0.complete = .with {
                $0.unitID = unit.id
                $0.epoch = unit.epoch
                $0.outcomes = unit.outcomes
                $0.publishedShards = unit.shards.sorted()
            }
        }
    }

    /// Fail with `worker_going_down`: the unit goes back to the pool without counting against it.
    private func handBack(_ unit: UnitTracker.Unit) -> WorkerMessage {
        .with {
            $0.fail = .with {
                $0.unitID = unit.id
                $0.epoch = unit.epoch
                $0.error = "the worker stopped before finishing the unit"
                $0.workerGoingDown = true
            }
        }
    }
}

/// The session's ``UnitTracker``, shared by its tasks.
private final class SharedTracker: Sendable {
    let state = Mutex(UnitTracker())
}
