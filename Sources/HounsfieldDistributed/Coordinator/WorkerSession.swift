import Foundation
import HounsfieldHDF5
import HounsfieldProtocol
import Logging

/// One worker's session as the coordinator sees it: what it holds, and every decision about it. An actor, so a
/// worker's messages and the session's own ticks change its leases one at a time.
///
/// Journal calls block for their transaction and fsync; they run here, on the actor, in the order the worker's
/// messages came, which is what keeps a completion and the next lease of the same session in order.
actor WorkerSession {
    let name: String
    let capacity: Int
    private let context: CoordinatorContext
    private let outbox: AsyncStream<CoordinatorMessage>.Continuation
    private var held: [WorkUnit.ID: Int64] = [:]
    private var draining = false
    /// Whether the worker said it is going down (it handed a unit back).
    private var goingDown = false
    private var logger: Logger
    /// Since when the worker has held nothing while asking for work; after a lease TTL of that, it may be given
    /// a unit it went down on before (see `Journal.lease(worker:count:ttl:now:repeats:)`).
    private var idleSince: ContinuousClock.Instant?

    init(name: String, capacity: Int, context: CoordinatorContext,
         outbox: AsyncStream<CoordinatorMessage>.Continuation) {
        self.name = name
        self.capacity = max(1, capacity)
        self.context = context
        self.outbox = outbox
        var logger = context.logger
        logger[metadataKey: "worker"] = "\(name)"
        self.logger = logger
    }

    /// Leases units until the worker holds `capacity`, unless the run is draining or nothing is pending.
    func topUp() {
        guard !draining, held.count < capacity, context.pending.mayHaveWork else { return }
        let wanted = capacity - held.count
        if held.isEmpty, idleSince == nil { idleSince = .now }
        let repeats = idleSince.map { ContinuousClock.now - $0 >= context.leaseTTL } ?? false
        let leases: [Lease]
        do {
            leases = try context.journal.lease(
                worker: name, count: wanted, ttl: context.ttlSeconds, now: Date(), repeats: repeats)
        } catch {
            logger.error("could not lease units", metadata: ["error": "\(error)"])
            return
        }
        // Nothing for a worker that holds nothing and may take anything (repeats, suspects) means nothing is
        // pending. Anything less proves nothing: a suspect ends a batch, and units this worker went down on, or
        // suspects it may not take while holding others, may still be pending for other workers.
        if leases.isEmpty && repeats && held.isEmpty { context.pending.clear() }
        if !leases.isEmpty { idleSince = nil }
        for lease in leases {
            held[lease.unit.id] = lease.epoch
            context.metrics.leased(lease)
            logger.debug("assigned", metadata: ["unit": "\(lease.unit.id.rawValue)", "epoch": "\(lease.epoch)"])
            outbox.yield(.with {
                $0.assign = .with {
                    $0.unitID = UInt64(lease.unit.id.rawValue)
                    $0.epoch = UInt64(lease.epoch)
                    $0.studyFolder = lease.unit.path
                    $0.deadlineUnixMs = Int64(lease.deadline.timeIntervalSince1970 * 1000)
                }
            })
        }
    }

    /// Renews what the heartbeat lists; revokes what is no longer the worker's.
    func heartbeat(_ beat: Hounsfield_Distributed_V1_Heartbeat) {
        let listed = beat.leases.map { (unit: WorkUnit.ID(Int64($0.unitID)), epoch: Int64($0.epoch)) }
        let stale: [(unit: WorkUnit.ID, epoch: Int64)]
        do {
            stale = try context.journal.renew(leases: listed, worker: name, now: Date())
        } catch {
            logger.error("could not renew leases", metadata: ["error": "\(error)"])
            return
        }
        for lease in stale {
            if held[lease.unit] == lease.epoch { held[lease.unit] = nil }
            logger.notice("revoked a lease the worker no longer holds", metadata: [
                "unit": "\(lease.unit.rawValue)", "epoch": "\(lease.epoch)"])
            outbox.yield(.with {
                $0.revoke = .with {
                    $0.unitID = UInt64(lease.unit.rawValue)
                    $0.epoch = UInt64(lease.epoch)
                    $0.reason = "the lease expired and the unit went back to the pool"
                }
            })
        }
    }

    /// Settles a completed unit: reads the written volumes' manifest lines from the shards the worker published,
    /// commits the unit in the journal, then appends the lines to `manifest.jsonl`. A stale epoch is refused and
    /// nothing of it is referenced.
    func complete(_ message: Hounsfield_Distributed_V1_Complete) {
        let unit = WorkUnit.ID(Int64(message.unitID)), epoch = Int64(message.epoch)
        held[unit] = nil
        let written = message.outcomes.filter { $0.status == "written" }
        var outcomes: [UnitOutcome] = []
        do {
            // A unit's volumes sit in a few shards at most: read each shard's lines once.
            let byShard = Dictionary(grouping: written, by: \.shard)
            for (shard, series) in byShard.sorted(by: { $0.key < $1.key }) {
                let lines = try context.ledger.lines(of: Set(series.map(\.key)), inShard: shard)
                for item in series {
                    guard let found = lines[item.key], found.checksum == item.checksum else {
                        throw CompletionProblem(message: "shard \(shard) does not hold volume \(item.key) with checksum \(item.checksum)")
                    }
                    outcomes.append(UnitOutcome(key: item.key, shard: shard, checksum: item.checksum, line: found.line))
                }
            }
        } catch {
            // The worker says it published what the coordinator cannot read: the folder is not shared at the
            // same path, or the shard was damaged. Not the unit's fault the first time; three workers, quarantine.
            fail(unit: unit, epoch: epoch, error: "its completion could not be checked: \(error) (is the output folder shared at the same path on every node?)", goingDown: false)
            return
        }
        let notes = message.outcomes.filter { $0.status != "written" }.map {
            SeriesNote(key: $0.key, status: $0.status, stage: $0.stage.isEmpty ? nil : $0.stage,
                       file: $0.file.isEmpty ? nil : $0.file, error: $0.error.isEmpty ? nil : $0.error)
        }
        do {
            let duplicates = try context.journal.complete(unit: unit, epoch: epoch, written: outcomes, notes: notes)
            let accepted = outcomes.filter { !duplicates.contains($0.key) }.compactMap(\.line)
            do { try context.ledger.append(accepted) } catch {
                // The journal has the unit; the manifest is rewritten from it at the end (and at every start).
                logger.error("could not append to manifest.jsonl; it is rewritten from the journal when the run ends", metadata: ["error": "\(error)"])
            }
            context.metrics.completed(series: written.count, failed: notes.filter { $0.status == "failed" }.count, worker: name)
            logger.info("unit done", metadata: [
                "unit": "\(unit.rawValue)", "epoch": "\(epoch)", "written": "\(accepted.count)",
                "not_written": "\(notes.count + duplicates.count)"])
        } catch let error as JournalError {
            refuse(unit: unit, epoch: epoch, error)
        } catch {
            logger.error("could not record a completed unit; its lease will expire and it will be redone", metadata: ["unit": "\(unit.rawValue)", "error": "\(error)"])
        }
        topUp()
    }

    /// A unit the worker could not finish: handed back (the worker is stopping) or failed.
    func fail(_ message: Hounsfield_Distributed_V1_Fail) {
        fail(unit: WorkUnit.ID(Int64(message.unitID)), epoch: Int64(message.epoch), error: message.error,
             goingDown: message.workerGoingDown)
        if message.workerGoingDown {
            draining = true
            goingDown = true
        } else {
            topUp()
        }
    }

    private func fail(unit: WorkUnit.ID, epoch: Int64, error: String, goingDown: Bool) {
        held[unit] = nil
        do {
            if goingDown {
                try context.journal.release(unit: unit, epoch: epoch, reason: error)
                logger.info("unit handed back", metadata: ["unit": "\(unit.rawValue)", "reason": "\(error)"])
            } else {
                let next = try context.journal.fail(unit: unit, epoch: epoch, error: "\(name): \(error)")
                logger.warning("unit failed", metadata: ["unit": "\(unit.rawValue)", "error": "\(error)", "now": "\(next.rawValue)"])
                if next == .quarantined { context.metrics.quarantined() }
            }
            context.pending.set()
        } catch let error as JournalError {
            refuse(unit: unit, epoch: epoch, error)
        } catch {
            logger.error("could not record a failed unit", metadata: ["unit": "\(unit.rawValue)", "error": "\(error)"])
        }
    }

    private func refuse(unit: WorkUnit.ID, epoch: Int64, _ error: JournalError) {
        let reason: Hounsfield_Distributed_V1_Refused.Reason
        switch error {
        case .unknownUnit: reason = .unknownUnit
        default: reason = .staleEpoch
        }
        context.metrics.refused()
        logger.warning("refused a stale result", metadata: ["unit": "\(unit.rawValue)", "epoch": "\(epoch)", "reason": "\(error)"])
        outbox.yield(.with {
            $0.refused = .with {
                $0.reason = reason
                $0.unitID = UInt64(unit.rawValue)
                $0.epoch = UInt64(epoch)
                $0.detail = error.description
            }
        })
    }

    /// The session is over. A worker that said it was going down (a hand-back) will not work on what it still
    /// holds: units assigned while it was stopping, whose Assign crossed its last messages. They go back to the
    /// pool at once, not counted against them, instead of waiting out their TTL and ending as casualties. Any other
    /// session (a killed worker, a cut network) keeps its leases until they expire: the worker may still be
    /// working, and a unit that kills workers must count.
    func ended() {
        guard goingDown else { return }
        for (unit, epoch) in held.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            fail(unit: unit, epoch: epoch, error: "assigned while the worker was stopping", goingDown: true)
        }
    }

    /// Tells the worker the run is over: it finishes nothing new, reports what it holds and hangs up.
    func drain(reason: String) {
        guard !draining else { return }
        draining = true
        outbox.yield(.with { $0.drain = .with { $0.reason = reason } })
    }
}

/// A completion that does not match the shards it names.
struct CompletionProblem: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
