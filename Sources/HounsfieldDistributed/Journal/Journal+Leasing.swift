import Foundation
import GRDB

extension Journal {
    /// Leases the largest pending unit to `worker` until `now + ttl`, with the unit's next epoch; nil when nothing is
    /// pending.
    ///
    /// First, in the same transaction, every lease whose deadline has passed is taken back: its attempt is recorded
    /// as expired (the holder stalled or died), and the unit goes back to pending, or to quarantine when its
    /// casualties reach the limits. Among pending units, one that `worker` has not failed or stalled on is
    /// preferred; the largest of them is chosen (ties by id).
    public func lease(worker: String, ttl: TimeInterval, now: Date) throws -> Lease? {
        try lease(worker: worker, count: 1, ttl: ttl, now: now).first
    }

    /// Leases up to `count` units to `worker` in one transaction (one fsync), as `lease(worker:ttl:now:)` would one
    /// by one: expired leases taken back first, then the largest pending units. A worker that runs several units at
    /// once asks for them together, and the coordinator pays one disk sync instead of `count`. Empty when nothing is
    /// pending.
    ///
    /// With `repeats: false`, a unit that `worker` has already gone down on is not leased to it at all: the
    /// coordinator asks this way first, so that a unit that crashes workers meets a new worker each time (three
    /// distinct workers quarantine it), and asks with repeats only for a worker that has found nothing else for a
    /// while (a run with fewer workers than the quarantine threshold must still end).
    public func lease(worker: String, count: Int, ttl: TimeInterval, now: Date, repeats: Bool = true) throws -> [Lease] {
        precondition(ttl > 0, "a lease needs a positive TTL")
        precondition(count >= 1, "lease at least one unit")
        return try queue.write { db in
            try reclaimExpired(now: now, in: db)
            var leases: [Lease] = []
            while leases.count < count,
                  let lease = try leaseOne(worker: worker, ttl: ttl, now: now, repeats: repeats, in: db) {
                leases.append(lease)
            }
            return leases
        }
    }

    /// Extends a lease by its TTL from `now` (a worker's heartbeat) and returns it with its new deadline.
    ///
    /// Refused with `JournalError.staleLease` when the lease is no longer the unit's current one: a newer epoch was
    /// given, or the lease expired and was taken back, or the unit is settled. A lease past its deadline that
    /// nobody has taken back yet is still renewed: no other worker holds the unit.
    public func renew(lease: Lease, now: Date) throws -> Lease {
        try queue.write { db in
            let ttl = try Self.currentLeaseTTL(unit: lease.unit.id, epoch: lease.epoch, worker: lease.worker, in: db)
            let deadline = now.addingTimeInterval(ttl)
            try Self.execute(
                "UPDATE unit SET deadline = ? WHERE id = ?",
                [deadline.timeIntervalSince1970, lease.unit.id.rawValue], in: db)
            return Lease(unit: lease.unit, worker: lease.worker, epoch: lease.epoch, deadline: deadline)
        }
    }

    /// Takes back every lease whose deadline is before `now` without leasing anything: what `lease` does first.
    /// Returns how many were taken back.
    @discardableResult
    public func reclaimExpired(now: Date) throws -> Int {
        try queue.write { db in try reclaimExpired(now: now, in: db) }
    }

    // MARK: Inside a transaction

    /// Leases one unit to `worker`, or nil.
    ///
    /// **Suspects go alone.** A unit with two casualties (attempts that failed or expired) is a suspect: when a
    /// worker dies holding several units, nobody knows which one killed it. A suspect is leased only to a worker
    /// that holds nothing else, and that worker then gets nothing more until it is done with it. The next crash is
    /// then the suspect's alone, so an innocent unit that shared workers with a poison unit reaches at most two
    /// casualties and is never quarantined with it. One casualty is not enough to isolate a unit: every unit of a
    /// killed worker has one, and must go back to work after one TTL, not wait for an idle worker.
    func leaseOne(worker: String, ttl: TimeInterval, now: Date, repeats: Bool = true, in db: Database) throws -> Lease? {
        let held = try db.cachedStatement(
            sql: """
                SELECT (SELECT COUNT(*) FROM attempt WHERE attempt.unit = unit.id AND attempt.end IN ('failed', 'expired'))
                    >= 2 AS suspect
                FROM unit INDEXED BY unit_leased WHERE state = 'leased' AND worker = ?
                """)
        let holding = try Bool.fetchAll(held, arguments: [worker])
        if holding.contains(true) { return nil }
        let suspects = holding.isEmpty  // a worker holding nothing may take a suspect
        let preferred = try db.cachedStatement(
            sql: """
                SELECT id, path, size, epoch FROM unit INDEXED BY unit_pending
                WHERE state = 'pending'
                    AND NOT EXISTS (
                        SELECT 1 FROM attempt
                        WHERE attempt.unit = unit.id AND attempt.end IN ('failed', 'expired') AND attempt.worker = ?)
                    AND (? OR (SELECT COUNT(*) FROM attempt
                               WHERE attempt.unit = unit.id AND attempt.end IN ('failed', 'expired')) < 2)
                ORDER BY size DESC, id LIMIT 1
                """)
        let any = try db.cachedStatement(
            sql: """
                SELECT id, path, size, epoch FROM unit INDEXED BY unit_pending
                WHERE state = 'pending' AND (? OR (SELECT COUNT(*) FROM attempt
                                                   WHERE attempt.unit = unit.id AND attempt.end IN ('failed', 'expired')) < 2)
                ORDER BY size DESC, id LIMIT 1
                """)
        guard let row = try Row.fetchOne(preferred, arguments: [worker, suspects])
                ?? (repeats ? Row.fetchOne(any, arguments: [suspects]) : nil)
        else { return nil }
        let unit = Self.workUnit(row)
        let epoch = (row["epoch"] as Int64) + 1
        let deadline = now.addingTimeInterval(ttl)
        try db.cachedStatement(
            sql: "UPDATE unit SET state = 'leased', epoch = ?, worker = ?, deadline = ?, ttl = ? WHERE id = ?"
        ).execute(arguments: [epoch, worker, deadline.timeIntervalSince1970, ttl, unit.id.rawValue])
        try db.cachedStatement(sql: "INSERT INTO attempt (unit, epoch, worker, started) VALUES (?, ?, ?, ?)")
            .execute(arguments: [unit.id.rawValue, epoch, worker, now.timeIntervalSince1970])
        return Lease(unit: unit, worker: worker, epoch: epoch, deadline: deadline)
    }

    @discardableResult
    func reclaimExpired(now: Date, in db: Database) throws -> Int {
        let expired = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id, epoch, deadline FROM unit INDEXED BY unit_leased
                    WHERE state = 'leased' AND deadline < ?
                    """),
            arguments: [now.timeIntervalSince1970])
        guard !expired.isEmpty else { return 0 }
        let formatter = ISO8601DateFormatter()
        for row in expired {
            let id = WorkUnit.ID(row["id"])
            let deadline = Self.date(row["deadline"])
            try db.execute(
                sql: "UPDATE attempt SET end = 'expired', error = ? WHERE unit = ? AND epoch = ?",
                arguments: [
                    "no heartbeat: the lease expired at \(formatter.string(from: deadline))", id.rawValue,
                    row["epoch"] as Int64,
                ])
            try settleCasualty(id, in: db)
        }
        return expired.count
    }

    /// Sends a unit whose attempt just failed or expired back to pending, or to quarantine when its casualties span
    /// `quarantineAfter` distinct workers or number `attemptLimit`.
    @discardableResult
    func settleCasualty(_ id: WorkUnit.ID, in db: Database) throws -> UnitState.Kind {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COUNT(DISTINCT worker) AS workers, COUNT(*) AS attempts FROM attempt
                WHERE unit = ? AND end IN ('failed', 'expired')
                """,
            arguments: [id.rawValue])
        let workers: Int = row?["workers"] ?? 0
        let attempts: Int = row?["attempts"] ?? 0
        let next: UnitState.Kind = workers >= quarantineAfter || attempts >= attemptLimit ? .quarantined : .pending
        try Self.execute(
            "UPDATE unit SET state = ?, worker = NULL, deadline = NULL, ttl = NULL WHERE id = ?",
            [next.rawValue, id.rawValue], in: db)
        return next
    }

    /// The TTL of the unit's current lease when `epoch` (held by `worker`) is that lease; otherwise throws
    /// `JournalError.staleLease` (or `unknownUnit`). The fencing check of every call a worker makes.
    static func currentLeaseTTL(unit id: WorkUnit.ID, epoch: Int64, worker: String?, in db: Database) throws
        -> TimeInterval
    {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT state, epoch, worker, ttl FROM unit WHERE id = ?"),
                arguments: [id.rawValue])
        else { throw JournalError.unknownUnit(id) }
        let state = UnitState.Kind(rawValue: row["state"]) ?? .pending
        let current: Int64 = row["epoch"]
        let holder: String? = row["worker"]
        guard state == .leased, current == epoch, worker == nil || holder == worker, let ttl = row["ttl"] as Double?
        else {
            throw JournalError.staleLease(unit: id, epoch: epoch, currentEpoch: current, state: state)
        }
        return ttl
    }
}
