import Foundation
import GRDB

/// The spool's record of every instance it acknowledged and of every series version, in SQLite (WAL, synced at
/// every commit): an instance is recorded before its sender hears success, so after a crash the journal names
/// everything that was acknowledged, and nothing that was not.
final class IntakeJournal: Sendable {
    let queue: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.label = "hounsfield.intake"
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // An acknowledged instance must survive a power loss, not only a killed process: FULL syncs the WAL
            // at every commit, before the acknowledgement leaves.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE series (
                    study TEXT NOT NULL,
                    series TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    state TEXT NOT NULL,              -- receiving, processed
                    last_received REAL NOT NULL,
                    result TEXT,                      -- once processed: what became of it (JSON)
                    PRIMARY KEY (study, series)
                );
                CREATE TABLE instance (
                    sop TEXT PRIMARY KEY,
                    study TEXT NOT NULL,
                    series TEXT NOT NULL,
                    sop_class TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    path TEXT NOT NULL,
                    version INTEGER NOT NULL,         -- the series version it arrived in
                    bytes INTEGER NOT NULL,
                    received REAL NOT NULL
                );
                CREATE INDEX instance_series ON instance(study, series);
                CREATE INDEX series_waiting ON series(state, last_received);
                CREATE TABLE conflict (
                    sop TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    path TEXT NOT NULL,
                    received REAL NOT NULL
                );
                """)
        }
        try migrator.migrate(queue)
    }
}
