import Foundation
import GRDB

extension Journal {
    /// Adds study folders as pending units, in one transaction. A path the journal already holds is left as it was,
    /// whatever its state, so listing the same input again after a restart adds only what is new.
    @discardableResult
    public func add(units folders: [StudyFolder]) throws -> AddResult {
        try queue.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO unit (path, size) VALUES (?, ?) ON CONFLICT(path) DO NOTHING"
            )
            var added = 0
            for folder in folders {
                try insert.execute(arguments: [folder.path, folder.size])
                added += db.changesCount
            }
            return AddResult(added: added, alreadyPresent: folders.count - added)
        }
    }

    /// The unit with this id, or nil.
    public func unit(_ id: WorkUnit.ID) throws -> WorkUnit? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT id, path, size FROM unit WHERE id = ?", arguments: [id.rawValue])
                .map(Self.workUnit)
        }
    }

    /// The unit of this folder path, or nil.
    public func unit(path: String) throws -> WorkUnit? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT id, path, size FROM unit WHERE path = ?", arguments: [path])
                .map(Self.workUnit)
        }
    }

    /// Every unit, by id.
    public func units() throws -> [WorkUnit] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, path, size FROM unit ORDER BY id").map(Self.workUnit)
        }
    }

    /// Where a unit stands, with its details (its lease, outcomes, failure or quarantine errors).
    public func state(of id: WorkUnit.ID) throws -> UnitState {
        try queue.read { db in try Self.state(of: id, in: db) }
    }

    /// Every lease a unit was given, oldest first, and how each ended.
    public func attempts(of id: WorkUnit.ID) throws -> [Attempt] {
        try queue.read { db in try Self.attempts(of: id, in: db) }
    }

    /// The done set: every key of every done unit, by unit then key. What the manifest is merged from.
    public func outcomes() throws -> [UnitOutcome] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, shard, checksum FROM outcome ORDER BY unit, key").map {
                UnitOutcome(key: $0["key"], shard: $0["shard"], checksum: $0["checksum"])
            }
        }
    }

    /// How many units are in each state.
    public func counts() throws -> UnitCounts {
        try queue.read { db in
            var counts = UnitCounts()
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM unit GROUP BY state") {
                if let kind = UnitState.Kind(rawValue: row["state"]) {
                    counts[kind] = row["n"]
                }
            }
            return counts
        }
    }

    /// Whether every unit is done, failed or quarantined (true for an empty journal).
    public var isFinished: Bool {
        get throws {
            let counts = try counts()
            return counts.pending == 0 && counts.leased == 0
        }
    }

    // MARK: Rows

    /// Runs one statement, prepared once per connection and reused.
    static func execute(_ sql: String, _ arguments: StatementArguments, in db: Database) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    static func workUnit(_ row: Row) -> WorkUnit {
        WorkUnit(id: WorkUnit.ID(row["id"]), path: row["path"], size: row["size"])
    }

    static func date(_ seconds: Double) -> Date {
        Date(timeIntervalSince1970: seconds)
    }

    static func state(of id: WorkUnit.ID, in db: Database) throws -> UnitState {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT state, epoch, worker, deadline, reason FROM unit WHERE id = ?",
                arguments: [id.rawValue])
        else { throw JournalError.unknownUnit(id) }
        switch UnitState.Kind(rawValue: row["state"]) {
        case .pending, nil:
            return .pending
        case .leased:
            return .leased(worker: row["worker"], epoch: row["epoch"], deadline: date(row["deadline"]))
        case .done:
            let outcomes = try Row.fetchAll(
                db, sql: "SELECT key, shard, checksum FROM outcome WHERE unit = ? ORDER BY key",
                arguments: [id.rawValue]
            ).map { UnitOutcome(key: $0["key"], shard: $0["shard"], checksum: $0["checksum"]) }
            return .done(outcomes: outcomes)
        case .failed:
            return .failed(reason: (row["reason"] as String?) ?? "")
        case .quarantined:
            return .quarantined(errors: try attempts(of: id, in: db).filter(\.isCasualty))
        }
    }

    static func attempts(of id: WorkUnit.ID, in db: Database) throws -> [Attempt] {
        try Row.fetchAll(
            db, sql: "SELECT epoch, worker, started, end, error FROM attempt WHERE unit = ? ORDER BY epoch",
            arguments: [id.rawValue]
        ).map { row in
            Attempt(
                unit: id, epoch: row["epoch"], worker: row["worker"], started: date(row["started"]),
                end: (row["end"] as String?).flatMap(Attempt.End.init(rawValue:)), error: row["error"])
        }
    }
}
