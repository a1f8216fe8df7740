import GRDB

extension Journal {
    /// The journal's tables, created once and migrated by name.
    ///
    /// - `unit`: one row per study folder, its state, its current (or last) epoch, the lease's holder, deadline and
    ///   TTL while leased, and the reason of a final failure. Partial indexes keep `lease` cheap with 100k rows: the
    ///   pending units by size, and the leased ones by deadline.
    /// - `attempt`: one row per lease given (unit, epoch), its worker and start, and how it ended (completed,
    ///   failed, expired) with its error: the casualties that decide quarantine.
    /// - `outcome`: the done set, one row per key (the primary key: a key is done once), its unit, shard and
    ///   checksum.
    /// - v2 adds `outcome.line` (the volume's manifest line as JSON, so the coordinator rewrites `manifest.jsonl`
    ///   from the journal alone after a crash) and `series_note`: every series of a done unit that was not written
    ///   (failed, filtered, a duplicate of another unit's key), for the run's report and exit status; and
    ///   `attempt.ended`, when a completed attempt ended, from which `coordinator status` tells the rate and the ETA.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE unit (
                        id INTEGER PRIMARY KEY,
                        path TEXT NOT NULL UNIQUE,
                        size INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending',
                        epoch INTEGER NOT NULL DEFAULT 0,
                        worker TEXT,
                        deadline REAL,
                        ttl REAL,
                        reason TEXT
                    );
                    CREATE INDEX unit_pending ON unit(size DESC, id) WHERE state = 'pending';
                    CREATE INDEX unit_leased ON unit(deadline) WHERE state = 'leased';
                    CREATE TABLE attempt (
                        unit INTEGER NOT NULL REFERENCES unit(id),
                        epoch INTEGER NOT NULL,
                        worker TEXT NOT NULL,
                        started REAL NOT NULL,
                        end TEXT,
                        error TEXT,
                        PRIMARY KEY (unit, epoch)
                    );
                    CREATE TABLE outcome (
                        key TEXT PRIMARY KEY,
                        unit INTEGER NOT NULL REFERENCES unit(id),
                        shard TEXT NOT NULL,
                        checksum TEXT NOT NULL
                    );
                    CREATE INDEX outcome_unit ON outcome(unit);
                    """
            )
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outcome ADD COLUMN line TEXT;
                    ALTER TABLE attempt ADD COLUMN ended REAL;
                    CREATE TABLE series_note (
                        unit INTEGER NOT NULL REFERENCES unit(id),
                        key TEXT NOT NULL,
                        status TEXT NOT NULL,
                        stage TEXT,
                        file TEXT,
                        error TEXT
                    );
                    CREATE INDEX series_note_unit ON series_note(unit);
                    """
            )
        }
        return migrator
    }
}
