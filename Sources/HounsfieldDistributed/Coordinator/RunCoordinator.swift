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

/// `hounsfield coordinator`: fans a run's study folders out to workers over gRPC and keeps the books.
///
/// It lists the study folders (never a DICOM header), adds them to its journal as units batch by batch, and serves worker
/// sessions: each worker gets the run's configuration, then leases of units fenced by epochs; it reports each unit
/// complete with the keys, shards and checksums it published. The coordinator checks every completion against the
/// shards, commits it to the journal, and appends the volumes to `manifest.jsonl`, so the output folder is a
/// consistent dataset at every moment: a volume is listed only once its unit is done, each key once.
///
/// **Restarts.** Everything is in the journal (`<output>/.hounsfield/journal.sqlite`). Started again with the
/// same arguments, the coordinator adds only new folders, rewrites `manifest.jsonl` from the journal, and serves on;
/// workers reconnect by themselves, and leases that were live stay valid until their deadline.
///
/// **The end.** When no unit is pending or leased, it writes the final manifest and `report.json`, tells the workers
/// to drain, waits for them (at most ``CoordinatorOptions/drainTimeout``), and returns. On graceful shutdown
/// (SIGTERM) it returns without finishing and without Drain (which would tell workers the run is over): their
/// sessions are cut, they reconnect with backoff, and a restart resumes from the journal.
public final class RunCoordinator: Service, Sendable {
    /// How a run ended, once ``run()`` has returned.
    public struct Summary: Sendable {
        /// Whether every unit is settled (false: the coordinator was stopped first).
        public var finished: Bool
        /// Units by state.
        public var units: UnitCounts
        /// Series written.
        public var written: Int
        /// Series that failed (`hounsfield coordinator` then exits 3, as `run` does).
        public var failedSeries: Int
    }

    private let configuration: RunConfiguration
    private let options: CoordinatorOptions
    private let output: URL
    private let logger: Logger
    private let summaryBox = Mutex<Summary?>(nil)
    private let addressBox = Mutex<ServiceAddress?>(nil)

    /// A coordinator for `configuration` (its output folder is where workers write). Throws
    /// ``CoordinatorError`` for options that cannot work; nothing is read or written before ``run()``.
    public init(configuration: RunConfiguration, options: CoordinatorOptions,
                logger: Logger = Logger(label: "hounsfield.coordinator")) throws(CoordinatorError) {
        guard let folder = configuration.output.folder else { throw .invalid("give an output folder (--output)") }
        guard options.token != nil || options.insecure || options.listen.isLoopback else {
            throw .insecureListen(options.listen)
        }
        guard options.leaseTTL >= .seconds(3) else { throw .invalid("--lease-ttl must be at least 3 seconds") }
        guard options.quarantineAfter >= 1 else { throw .invalid("--quarantine-after must be at least 1") }
        if let tls = options.tls {
            for file in [tls.certificateChain, tls.privateKey] where !FileManager.default.isReadableFile(atPath: file) {
                throw .invalid("cannot read the TLS file \(file)")
            }
        }
        self.configuration = configuration
        self.options = options
        self.output = URL(fileURLWithPath: folder).standardizedFileURL
        self.logger = logger
    }

    /// How the run ended (nil until ``run()`` returns).
    public var summary: Summary? { summaryBox.withLock { $0 } }

    /// The address the coordinator listens on, once it does (the port the system picked, for port 0).
    public var listeningAddress: ServiceAddress? { addressBox.withLock { $0 } }

    /// Where the journal lives.
    public var journalPath: String {
        options.journalPath ?? output.appendingPathComponent(".hounsfield/journal.sqlite").path
    }

    /// Where the listening address is written (`HOST:PORT`), for scripts and tests that let the system pick the port.
    public var addressFile: URL { output.appendingPathComponent(".hounsfield/coordinator.address") }

    /// Prepares (configuration, journal, listing, manifest), serves sessions until every unit is settled or a
    /// graceful shutdown, drains the workers and returns; ``summary`` then says how the run ended. Throws
    /// ``CoordinatorError`` when the output, the journal or the listing cannot be prepared, or the address cannot be
    /// bound.
    public func run() async throws {
        let context = try prepare()
        let stopping = CancellationFlag()
        let finished = CancellationFlag()
        let registry = SessionRegistry()
        let service = SessionService(context: context, registry: registry,
                                     isDraining: { stopping.isSet || finished.isSet })
        let transport = HTTP2ServerTransport.Posix(
            address: options.listen.isIPv6
                ? .ipv6(host: options.listen.host, port: options.listen.port)
                : .ipv4(host: options.listen.host == "localhost" ? "127.0.0.1" : options.listen.host, port: options.listen.port),
            transportSecurity: options.tls.map {
                .tls(certificateChain: [.file(path: $0.certificateChain, format: .pem)],
                     privateKey: .file(path: $0.privateKey, format: .pem))
            } ?? .plaintext,
            config: .defaults { config in
                // A worker whose node vanished (no RST) is noticed within half a minute, which frees its name.
                config.connection.keepalive = .init(
                    time: .seconds(20), timeout: .seconds(10),
                    clientBehavior: .init(minPingIntervalWithoutCalls: .seconds(10), allowWithoutCalls: true))
                // One session per worker; a completion lists keys and digests only, far below the 4 MiB cap.
                config.http2.maxConcurrentStreams = 4
                config.rpc.maxRequestPayloadSize = 4 << 20
            })
        let server = GRPCServer(
            transport: transport, services: [service],
            interceptors: options.token.map { [TokenAuthentication(token: $0)] } ?? [])
        // Set before the server's task is cancelled on purpose (a stop, or a worker that would not hang up): its
        // error then is the cut, not a failure of the run.
        let cut = CancellationFlag()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                do { try await server.serve() } catch { if !cut.isSet { throw error } }
            }
            let bound = try await transport.listeningAddress
            let address = ServiceAddress(
                host: bound.ipv4?.host ?? bound.ipv6?.host ?? options.listen.host,
                port: bound.ipv4?.port ?? bound.ipv6?.port ?? options.listen.port)
            addressBox.withLock { $0 = address }
            try? Data("\(address)\n".utf8).write(to: addressFile, options: .atomic)
            logger.notice("listening", metadata: [
                "address": "\(address)", "token": "\(options.token == nil ? "none" : "required")",
                "tls": "\(options.tls == nil ? "off" : "on")"])

            // Listening comes first, so that workers started beside the coordinator are welcomed while a large
            // archive is still being listed (they get units as soon as the folders are in the journal).
            try await withGracefulShutdownHandler {
                try await listStudies(into: context)
                await supervise(context: context, finished: finished, stopping: stopping)
            } onGracefulShutdown: {
                stopping.set()
            }
            guard finished.isSet else {
                // Stopped before the end: no Drain, which would tell the workers the run is over. Their sessions
                // are cut; they reconnect with backoff to the coordinator's next start, which resumes the journal.
                logger.notice("stopping before the end of the run; start again with the same arguments to resume")
                cut.set()
                group.cancelAll()
                return
            }
            await registry.drainAll(reason: "the run is over")
            let deadline = ContinuousClock.now + options.drainTimeout
            while registry.count > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            server.beginGracefulShutdown()
            if registry.count > 0 {  // a worker that did not hang up in time
                logger.warning("workers still connected after the drain; closing their sessions", metadata: ["count": "\(registry.count)"])
                cut.set()
                group.cancelAll()
            }
        }
        let counts = try context.journal.counts()
        let notes = try context.journal.seriesNotes()
        summaryBox.withLock {
            $0 = Summary(finished: finished.isSet, units: counts, written: (try? context.journal.writtenCount()) ?? 0,
                         failedSeries: notes.filter { $0.status == "failed" }.count)
        }
        try? context.journal.close()
    }

    /// Records the configuration, opens the journal, rewrites the manifest from the journal.
    private func prepare() throws -> CoordinatorContext {
        do {
            try OutputPreparation(configuration: configuration, output: output).recordConfiguration()
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: journalPath).deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError.setup("\(error)")
        }
        let journal: Journal
        do {
            journal = try Journal(path: journalPath, quarantineAfter: options.quarantineAfter)
        } catch {
            throw CoordinatorError.setup("cannot open the journal \(journalPath): \(error)")
        }
        let ledger = ManifestLedger(folder: output)
        try ledger.rewrite(try journal.manifestLines())
        return CoordinatorContext(
            journal: journal, ledger: ledger, pending: PendingHint(), metrics: CoordinatorMetrics(), logger: logger,
            configurationJSON: configuration.portableJSON, configurationKey: configuration.key,
            outputFolder: output.path, leaseTTL: options.leaseTTL, heartbeatInterval: options.heartbeatInterval)
    }

    /// Lists the study folders and adds the new ones to the journal (a restart adds only what is new), batch by
    /// batch, off the cooperative pool: sessions lease the first studies while the rest are still being sized.
    ///
    /// Leasing is largest first among the units listed so far. A large study in a late batch therefore waits at most
    /// the listing's time (seconds, or minutes for 100k studies on network storage), which is early in any run long
    /// enough for the order to matter; the end of the run is watched for only once the listing is complete.
    private func listStudies(into context: CoordinatorContext) async throws {
        let start = ContinuousClock.now
        let studies = options.studies
        let (folders, added) = try await ParallelLoop.offload { () throws -> (Int, AddResult) in
            var folders = 0, added = AddResult(added: 0, alreadyPresent: 0)
            try studies.studies { batch in
                let result = try context.journal.add(units: batch)
                folders += batch.count
                added = AddResult(added: added.added + result.added, alreadyPresent: added.alreadyPresent + result.alreadyPresent)
                context.pending.set()
            }
            return (folders, added)
        }
        logger.notice("study folders listed", metadata: [
            "folders": "\(folders)", "new": "\(added.added)", "known": "\(added.alreadyPresent)",
            "seconds": "\(String(format: "%.2f", (ContinuousClock.now - start).inSeconds))"])
    }

    /// Takes back expired leases and watches for the end, every tick, until the run is over or stopping.
    private func supervise(context: CoordinatorContext, finished: CancellationFlag, stopping: CancellationFlag) async {
        // The end is looked for every 50 ms (a read, no sync), every 5 ms once nothing is pending (only the last
        // leases are out): a run of small units must not wait for it. Expired leases are taken back every
        // `reclaimEvery` (a write transaction).
        let tick = Duration.milliseconds(50), endTick = Duration.milliseconds(5)
        let reclaimEvery = min(Duration.seconds(1), options.leaseTTL / 10)
        var lastProgress = ContinuousClock.now
        var lastReclaim = ContinuousClock.now - reclaimEvery
        var nearTheEnd = false
        while !stopping.isSet {
            do {
                var expired = 0
                if ContinuousClock.now - lastReclaim >= reclaimEvery {
                    lastReclaim = .now
                    expired = try context.journal.reclaimExpired(now: Date())
                }
                if expired > 0 {
                    context.metrics.expired(expired)
                    context.pending.set()
                    logger.warning("leases expired: their units go to other workers", metadata: ["count": "\(expired)"])
                }
                let counts = try context.journal.counts()
                context.metrics.units(counts)
                if ContinuousClock.now - lastProgress >= .seconds(10) {
                    lastProgress = .now
                    logger.info("progress", metadata: [
                        "done": "\(counts.done)", "leased": "\(counts.leased)", "pending": "\(counts.pending)",
                        "quarantined": "\(counts.quarantined)", "failed": "\(counts.failed)", "total": "\(counts.total)"])
                }
                if counts.pending == 0 && counts.leased == 0 {
                    try finish(context: context, counts: counts)
                    finished.set()
                    return
                }
                nearTheEnd = counts.pending == 0
            } catch {
                logger.error("journal error", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: nearTheEnd ? endTick : tick)
        }
    }

    /// The final manifest (rewritten from the journal, sorted by key) and `report.json`.
    private func finish(context: CoordinatorContext, counts: UnitCounts) throws {
        try context.ledger.rewrite(try context.journal.manifestLines(), final: true)
        let report = CoordinatorReport(
            configurationKey: configuration.key, units: counts, written: try context.journal.writtenCount(),
            notes: try context.journal.seriesNotes(),
            quarantined: try context.journal.quarantined().map {
                .init(path: $0.unit.path, errors: $0.errors.map { "\($0.worker): \($0.error ?? "")" })
            },
            failedUnits: try context.journal.failedUnits().map { .init(path: $0.unit.path, errors: [$0.reason]) })
        try report.write(to: output.appendingPathComponent("report.json"))
        logger.notice("run complete", metadata: [
            "units": "\(counts.total)", "written": "\(report.series["written"] ?? 0)",
            "failed": "\(report.series["failed"] ?? 0)", "quarantined": "\(counts.quarantined)"])
    }
}
