import Foundation
import GRDB

/// The coordinator's durable record of every unit of work: pending, leased, done, failed or quarantined, with every
/// lease given and how it ended.
///
/// SQLite in WAL mode, one transaction per state change, so a coordinator killed at any point reopens the file
/// (`init(path:)` again) and resumes exactly where the last committed change left it: leases still valid stay
/// leased, expired ones are taken back by the next `lease(worker:ttl:now:)`.
///
/// The rules (docs/scale-out.md):
/// - **Largest first.** `lease` hands out the largest pending unit, preferring one the asking worker has not gone
///   down on before.
/// - **Epochs and fencing.** Every lease carries an epoch, one more than the unit's previous lease. Renewals,
///   completions and failures present it, and anything but the unit's current lease is refused
///   (`JournalError.staleLease`) without changing anything: a late worker whose lease expired and was given to
///   another never counts, and each key enters the done set exactly once.
/// - **Expiry.** A lease past its deadline stays its holder's until someone else needs work: the next `lease` call
///   takes it back (recording the holder as a casualty) before choosing. Until then nobody else holds the unit, so
///   the holder's late heartbeat or completion is still taken; epochs change only when a unit is given out.
/// - **Quarantine.** A unit whose failed or expired attempts span `quarantineAfter` distinct workers (default 3), or
///   number `attemptLimit` in all, is quarantined with every error instead of going back to pending. One worker
///   failing on a unit three times is not three workers.
///
/// Time is always passed in (`now:`), never read here, so tests decide when leases expire.
///
/// All methods are synchronous and thread-safe (GRDB's serial queue); each blocks for one transaction and its fsync.
public final class Journal: Sendable {
    /// The journal's file.
    public let path: String
    /// How many distinct workers a unit may take down or stall before it is quarantined.
    public let quarantineAfter: Int
    /// How many failed or expired attempts in all (by any workers) quarantine a unit.
    public let attemptLimit: Int

    let queue: DatabaseQueue

    /// Opens the journal at `path`, creating it (and its schema) when missing; reopening after a crash resumes from
    /// the last committed change.
    ///
    /// - Parameters:
    ///   - quarantineAfter: distinct workers a unit may take down before it is quarantined (at least 1).
    ///   - attemptLimit: failed or expired attempts in all before quarantine; by default twice `quarantineAfter`, so
    ///     that a unit that keeps failing on the only worker left still ends.
    public init(path: String, quarantineAfter: Int = 3, attemptLimit: Int? = nil) throws {
        precondition(quarantineAfter >= 1, "quarantineAfter must be at least 1")
        self.path = path
        self.quarantineAfter = quarantineAfter
        self.attemptLimit = max(attemptLimit ?? 2 * quarantineAfter, quarantineAfter)
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.label = "hounsfield.journal"
        // Another connection (`coordinator status`, a test watching the run) may hold the write lock for a moment:
        // wait for it rather than fail at once with "database is locked".
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Every state change is acknowledged to a worker (a lease's epoch, a heartbeat's new deadline, a
            // completion the worker then forgets) or to the user (units added). In WAL mode, NORMAL would survive a
            // killed process but not a lost node or power: a committed lease could vanish and its epoch be handed
            // out again to a second worker, defeating the fencing, or a completion already merged into the
            // manifest could be redone under another shard. FULL syncs the WAL at every commit, so an acknowledged
            // change is on disk before the acknowledgement leaves.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(queue)
    }

    /// Closes the file. Later calls on this journal throw.
    public func close() throws {
        try queue.close()
    }
}
