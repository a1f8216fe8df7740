import Foundation
import GRDB

extension Journal {
    /// Records a unit as done with the keys, shards and checksums its worker wrote.
    ///
    /// Refused, changing nothing, with `JournalError.staleLease` when `epoch` is not the unit's current lease (the
    /// lease expired and was taken back or given again, or the unit is already settled): such a worker's shards are
    /// never referenced. Refused with `JournalError.duplicateKey` when a key is already in the done set (or twice in
    /// `outcomes`), so each key is done exactly once across units.
    public func complete(unit id: WorkUnit.ID, epoch: Int64, outcomes: [UnitOutcome]) throws {
        try queue.write { db in
            _ = try Self.currentLeaseTTL(unit: id, epoch: epoch, worker: nil, in: db)
            var seen = Set<String>()
            let holder = try db.cachedStatement(sql: "SELECT unit FROM outcome WHERE key = ?")
            for outcome in outcomes {
                guard seen.insert(outcome.key).inserted else {
                    throw JournalError.duplicateKey(key: outcome.key, unit: id, heldBy: id)
                }
                if let other = try Int64.fetchOne(holder, arguments: [outcome.key]) {
                    throw JournalError.duplicateKey(key: outcome.key, unit: id, heldBy: WorkUnit.ID(other))
                }
            }
            let insert = try db.cachedStatement(
                sql: "INSERT INTO outcome (key, unit, shard, checksum) VALUES (?, ?, ?, ?)")
            for outcome in outcomes {
                try insert.execute(arguments: [outcome.key, id.rawValue, outcome.shard, outcome.checksum])
            }
            try Self.execute(
                "UPDATE attempt SET end = 'completed' WHERE unit = ? AND epoch = ?",
                [id.rawValue, epoch], in: db)
            try Self.execute(
                "UPDATE unit SET state = 'done', worker = NULL, deadline = NULL, ttl = NULL WHERE id = ?",
                [id.rawValue], in: db)
        }
    }

    /// Records that the current lease's worker failed on the unit (it crashed or aborted converting it), and returns
    /// where the unit goes.
    ///
    /// A retryable failure sends the unit back to pending for another worker, or to quarantine with every error
    /// once its failed or expired attempts span `quarantineAfter` distinct workers (or number `attemptLimit`). A
    /// failure that is not retryable (the folder is gone) fails the unit for good with `error` as its reason. A
    /// series that fails to decode is not a unit failure: it is an outcome of a completed unit, reported as in a
    /// single-process run. Refused, changing nothing, with `JournalError.staleLease` when `epoch` is not the unit's
    /// current lease.
    @discardableResult
    public func fail(unit id: WorkUnit.ID, epoch: Int64, error: String, retryable: Bool = true) throws
        -> UnitState.Kind
    {
        try queue.write { db in
            _ = try Self.currentLeaseTTL(unit: id, epoch: epoch, worker: nil, in: db)
            try Self.execute(
                "UPDATE attempt SET end = 'failed', error = ? WHERE unit = ? AND epoch = ?",
                [error, id.rawValue, epoch], in: db)
            guard retryable else {
                try Self.execute(
                    "UPDATE unit SET state = 'failed', reason = ?, worker = NULL, deadline = NULL, ttl = NULL "
                        + "WHERE id = ?",
                    [error, id.rawValue], in: db)
                return .failed
            }
            return try settleCasualty(id, in: db)
        }
    }
}
