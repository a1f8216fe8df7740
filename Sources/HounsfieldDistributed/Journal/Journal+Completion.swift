import Foundation
import GRDB

extension Journal {
    /// Records a unit as done, as the coordinator does when a worker completes it: the written series (with their
    /// manifest lines) join the done set, the others are kept as notes for the report.
    ///
    /// Unlike `complete(unit:epoch:outcomes:)`, a written key that another unit already holds does not refuse the
    /// completion: the same series in two study folders is the archive's doing, not the worker's. The first unit
    /// keeps it; here it becomes a `duplicate` note, and its key is returned. Refused, changing nothing, with
    /// `JournalError.staleLease` when `epoch` is not the unit's current lease.
    @discardableResult
    public func complete(
        unit id: WorkUnit.ID, epoch: Int64, written: [UnitOutcome], notes: [SeriesNote], now: Date = Date()
    ) throws -> [String] {
        try queue.write { db in
            _ = try Self.currentLeaseTTL(unit: id, epoch: epoch, worker: nil, in: db)
            let holder = try db.cachedStatement(sql: "SELECT unit FROM outcome WHERE key = ?")
            let insert = try db.cachedStatement(
                sql: "INSERT INTO outcome (key, unit, shard, checksum, line) VALUES (?, ?, ?, ?, ?)")
            let note = try db.cachedStatement(
                sql: "INSERT INTO series_note (unit, key, status, stage, file, error) VALUES (?, ?, ?, ?, ?, ?)")
            var duplicates: [String] = []
            var seen = Set<String>()
            for outcome in written {
                if !seen.insert(outcome.key).inserted { continue }  // listed twice by one worker: once is enough
                if let other = try Int64.fetchOne(holder, arguments: [outcome.key]) {
                    duplicates.append(outcome.key)
                    try note.execute(arguments: [
                        id.rawValue, outcome.key, "duplicate", nil, nil,
                        "the same series is already done as part of unit \(other)",
                    ])
                    continue
                }
                try insert.execute(arguments: [
                    outcome.key, id.rawValue, outcome.shard, outcome.checksum, outcome.line,
                ])
            }
            for item in notes {
                try note.execute(arguments: [id.rawValue, item.key, item.status, item.stage, item.file, item.error])
            }
            try Self.execute(
                "UPDATE attempt SET end = 'completed', ended = ? WHERE unit = ? AND epoch = ?",
                [now.timeIntervalSince1970, id.rawValue, epoch], in: db)
            try Self.execute(
                "UPDATE unit SET state = 'done', worker = NULL, deadline = NULL, ttl = NULL WHERE id = ?",
                [id.rawValue], in: db)
            return duplicates
        }
    }

    /// Takes a unit back from a worker that is stopping (SIGTERM, preemption) before it finished: the unit goes back
    /// to pending and the attempt ends `released`, which does not count towards quarantine. Refused with
    /// `JournalError.staleLease` when `epoch` is not the unit's current lease.
    public func release(unit id: WorkUnit.ID, epoch: Int64, reason: String) throws {
        try queue.write { db in
            _ = try Self.currentLeaseTTL(unit: id, epoch: epoch, worker: nil, in: db)
            try Self.execute(
                "UPDATE attempt SET end = 'released', error = ? WHERE unit = ? AND epoch = ?",
                [reason, id.rawValue, epoch], in: db)
            try Self.execute(
                "UPDATE unit SET state = 'pending', worker = NULL, deadline = NULL, ttl = NULL WHERE id = ?",
                [id.rawValue], in: db)
        }
    }

    /// Every manifest line of the done set, by key: what `manifest.jsonl` holds. Outcomes recorded without a line
    /// (by `complete(unit:epoch:outcomes:)`) are left out.
    public func manifestLines() throws -> [String] {
        try queue.read { db in
            try String.fetchAll(db, sql: "SELECT line FROM outcome WHERE line IS NOT NULL ORDER BY key")
        }
    }

    /// Every series note, by unit then key.
    public func seriesNotes() throws -> [SeriesNote] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, status, stage, file, error FROM series_note ORDER BY unit, key").map {
                SeriesNote(key: $0["key"], status: $0["status"], stage: $0["stage"], file: $0["file"], error: $0["error"])
            }
        }
    }

    /// How many series were written (the done set's size).
    public func writtenCount() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outcome") ?? 0 }
    }

    /// The units that are leased now, with their holder and deadline: what the coordinator revokes or reports.
    public func leases() throws -> [Lease] {
        try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, path, size, epoch, worker, deadline FROM unit WHERE state = 'leased' ORDER BY id"
            ).map {
                Lease(unit: Self.workUnit($0), worker: $0["worker"], epoch: $0["epoch"], deadline: Self.date($0["deadline"]))
            }
        }
    }

    /// The quarantined units, with every error that put them there.
    public func quarantined() throws -> [(unit: WorkUnit, errors: [Attempt])] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, path, size FROM unit WHERE state = 'quarantined' ORDER BY id").map {
                let unit = Self.workUnit($0)
                return (unit, try Self.attempts(of: unit.id, in: db).filter(\.isCasualty))
            }
        }
    }

    /// The units that failed for good, with their reason.
    public func failedUnits() throws -> [(unit: WorkUnit, reason: String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, path, size, reason FROM unit WHERE state = 'failed' ORDER BY id").map {
                (Self.workUnit($0), ($0["reason"] as String?) ?? "")
            }
        }
    }
}

extension Journal {
    /// Renews every lease a worker's heartbeat lists, in one transaction (one fsync for the whole heartbeat), by
    /// each lease's TTL from `now`. Returns the leases that are no longer the worker's (a newer epoch was given, the
    /// lease expired and was taken back, or the unit is settled): the coordinator revokes those.
    public func renew(
        leases held: [(unit: WorkUnit.ID, epoch: Int64)], worker: String, now: Date
    ) throws -> [(unit: WorkUnit.ID, epoch: Int64)] {
        guard !held.isEmpty else { return [] }
        return try queue.write { db in
            var stale: [(unit: WorkUnit.ID, epoch: Int64)] = []
            for lease in held {
                do {
                    let ttl = try Self.currentLeaseTTL(unit: lease.unit, epoch: lease.epoch, worker: worker, in: db)
                    try Self.execute(
                        "UPDATE unit SET deadline = ? WHERE id = ?",
                        [now.addingTimeInterval(ttl).timeIntervalSince1970, lease.unit.rawValue], in: db)
                } catch is JournalError {
                    stale.append(lease)
                }
            }
            return stale
        }
    }
}

extension Journal {
    /// How many units were completed at or after `since`: the recent rate `coordinator status` reports.
    public func completions(since: Date) throws -> Int {
        try queue.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM attempt WHERE end = 'completed' AND ended >= ?",
                arguments: [since.timeIntervalSince1970]) ?? 0
        }
    }
}
