import Crypto
import Foundation
import GRDB
import HounsfieldHDF5

#if canImport(Glibc)
import Glibc
#endif

/// Where received DICOM instances wait to be processed: written, synced and recorded before the sender is told
/// success, so nothing acknowledged is ever lost, half-written or silently replaced.
///
/// The rule is the daemon's: **write, fsync, record, then acknowledge.** ``accept(file:as:synced:now:)`` returns only
/// after the instance's bytes are synced under `instances/`, the rename that put them there is synced, and the
/// journal (`intake.sqlite`, synced at every commit) holds the instance. Any failure, and a file system below the
/// free-space watermark, throws instead: the sender is told "out of resources" and sends again.
///
/// Repeats are decided by SOP Instance UID and the bytes' SHA-256: the same instance again is a no-op; the same UID
/// with other bytes is kept aside under `conflicts/` and reported, never put in place of the first (the fault of
/// receivers that let a repeated UID overwrite data). An instance that arrives after its series was processed opens
/// the series' next version instead of changing the one already written.
///
/// Layout: `instances/<study>/<series>/<sop>.dcm`, `conflicts/`, `incoming/` (files being written),
/// `intake.sqlite`. UIDs that are not plain DICOM UIDs (digits and dots, at most 64) are hashed into names.
public final class Spool: Sendable {
    /// The spool's folder.
    public let folder: URL
    /// Below this many free bytes on the spool's file system, instances are refused.
    public let minimumFreeBytes: Int64
    let journal: IntakeJournal

    /// Opens the spool in `folder`, creating it when missing; a spool left by a crashed process is taken up as it
    /// is (what it recorded was acknowledged; files it holds without a record were not, and are removed).
    public init(folder: URL, minimumFreeBytes: Int64 = 1 << 30) throws(IntakeError) {
        self.folder = folder
        self.minimumFreeBytes = minimumFreeBytes
        do {
            for sub in ["instances", "conflicts", "incoming"] {
                try FileManager.default.createDirectory(
                    at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            journal = try IntakeJournal(path: folder.appendingPathComponent("intake.sqlite").path)
        } catch {
            throw .writeFailed(path: folder.path, reason: "cannot open the spool: \(error)")
        }
        removeUnrecorded()
    }

    /// Removes what a crashed process left without a record: files still being written, and an instance renamed
    /// into place whose record was not committed. Neither was acknowledged; its sender sends it again.
    private func removeUnrecorded() {
        let incoming = folder.appendingPathComponent("incoming")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: incoming.path)) ?? [] {
            try? FileManager.default.removeItem(at: incoming.appendingPathComponent(name))
        }
        guard let recorded = try? journal.queue.read({ db in
            Set(try String.fetchAll(db, sql: "SELECT path FROM instance UNION SELECT path FROM conflict"))
        }) else { return }
        for top in ["instances", "conflicts"] {
            let root = folder.appendingPathComponent(top)
            guard let walker = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let relative as String in walker {
                let path = root.appendingPathComponent(relative)
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: path.path, isDirectory: &isFolder), !isFolder.boolValue,
                   !recorded.contains("\(top)/\(relative)")
                {
                    try? FileManager.default.removeItem(at: path)
                }
            }
        }
    }

    /// A path under `incoming/` for a receiver to write an instance to before handing it over.
    public func incomingPath() -> String {
        folder.appendingPathComponent("incoming/\(UUID().uuidString).partial").path
    }

    /// Takes over the file at `file` (written by the caller, usually under ``incomingPath()``) as the instance
    /// `identity`. Returns once it is durable; the file is moved or removed whatever happens. With `synced`, the
    /// caller has already fsynced the file's bytes (the DICOM receiver does, before it calls), and they are not
    /// synced twice.
    public func accept(file: String, as identity: InstanceIdentity, synced: Bool = false, now: Date = Date()) throws(IntakeError) -> IntakeOutcome {
        defer { try? FileManager.default.removeItem(atPath: file) }  // gone already when it was moved into place
        try checkFreeSpace()
        return try take(file, as: identity, synced: synced, now: now)
    }

    /// Writes `bytes` under `incoming/`, then takes them as ``accept(file:as:synced:now:)`` does.
    public func accept(bytes: [UInt8], as identity: InstanceIdentity, now: Date = Date()) throws(IntakeError) -> IntakeOutcome {
        try checkFreeSpace()
        let path = incomingPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw .writeFailed(path: path, reason: "cannot write the instance (errno \(errno))")
        }
        return try take(path, as: identity, synced: false, now: now)
    }

    /// Hashes and syncs a written file, then places it (the free space already checked).
    private func take(_ file: String, as identity: InstanceIdentity, synced: Bool, now: Date) throws(IntakeError) -> IntakeOutcome {
        let digest: String
        let size: Int
        do {
            digest = try Self.sha256(of: file)
            size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            if !synced { try Durability.sync(file) }
        } catch let error as IntakeError {
            throw error
        } catch {
            throw .writeFailed(path: file, reason: "\(error)")
        }
        do {
            return try journal.queue.write { db in try self.place(file, identity, digest, size, now, db) }
        } catch let error as IntakeError {
            throw error
        } catch {
            throw .writeFailed(path: file, reason: "\(error)")
        }
    }

    /// Places a synced file inside the journal's write transaction, so that deciding "new, repeat or conflict" and
    /// recording the decision are one step for concurrent senders.
    private func place(
        _ file: String, _ identity: InstanceIdentity, _ digest: String, _ size: Int, _ now: Date, _ db: Database
    ) throws -> IntakeOutcome {
        if let first = try Row.fetchOne(db, sql: "SELECT * FROM instance WHERE sop = ?", arguments: [identity.sopInstanceUID]) {
            let held = SpooledInstance(
                identity: InstanceIdentity(study: first["study"], series: first["series"], instance: first["sop"],
                                           sopClass: first["sop_class"]),
                path: first["path"], sha256: first["sha256"], seriesVersion: first["version"])
            if held.sha256 == digest { return .repeated(held) }
            let aside = "conflicts/\(Self.name(identity.sopInstanceUID)).\(digest.prefix(16)).dcm"
            try move(file, to: aside)
            try db.execute(sql: "INSERT INTO conflict (sop, sha256, path, received) VALUES (?, ?, ?, ?)",
                           arguments: [identity.sopInstanceUID, digest, aside, now.timeIntervalSince1970])
            return .conflict(path: aside, first: held)
        }
        let series = try Row.fetchOne(
            db, sql: "SELECT version, state FROM series WHERE study = ? AND series = ?",
            arguments: [identity.studyInstanceUID, identity.seriesInstanceUID])
        let version: Int = switch series {
        case nil: 1
        case let row?: (row["state"] as String) == "processed" ? (row["version"] as Int) + 1 : row["version"]
        }
        let relative = "instances/\(Self.name(identity.studyInstanceUID))/\(Self.name(identity.seriesInstanceUID))/\(Self.name(identity.sopInstanceUID)).dcm"
        try move(file, to: relative)
        try db.execute(
            sql: """
                INSERT INTO instance (sop, study, series, sop_class, sha256, path, version, bytes, received)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [identity.sopInstanceUID, identity.studyInstanceUID, identity.seriesInstanceUID,
                        identity.sopClassUID, digest, relative, version, size, now.timeIntervalSince1970])
        try db.execute(
            sql: """
                INSERT INTO series (study, series, version, state, last_received) VALUES (?, ?, ?, 'receiving', ?)
                ON CONFLICT (study, series) DO UPDATE SET version = excluded.version, state = 'receiving',
                    last_received = excluded.last_received
                """,
            arguments: [identity.studyInstanceUID, identity.seriesInstanceUID, version, now.timeIntervalSince1970])
        return .stored(SpooledInstance(identity: identity, path: relative, sha256: digest, seriesVersion: version))
    }

    /// Renames a synced file to `relative` under the spool, creating its folder, and syncs the folder.
    private func move(_ file: String, to relative: String) throws {
        let target = folder.appendingPathComponent(relative)
        let parent = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        try Durability.renameAtomically(file, to: target.path)
        try Durability.syncDirectory(parent.path)
    }

    /// Series versions not yet processed whose last instance came before `quietSince`: ready to process.
    public func quietSeries(since quietSince: Date) throws -> [SpooledSeries] {
        try journal.queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM series WHERE state = 'receiving' AND last_received < ? ORDER BY last_received",
                arguments: [quietSince.timeIntervalSince1970]
            ).map(Self.series)
        }
    }

    /// Every series version not yet processed: what a restarted daemon still has to do.
    public func pendingSeries() throws -> [SpooledSeries] {
        try quietSeries(since: .distantFuture)
    }

    /// The files of every instance of `series` up to its version, sorted by path.
    public func files(of series: SpooledSeries) throws -> [String] {
        try journal.queue.read { db in
            try String.fetchAll(
                db, sql: "SELECT path FROM instance WHERE study = ? AND series = ? AND version <= ? ORDER BY path",
                arguments: [series.studyInstanceUID, series.seriesInstanceUID, series.version])
        }.map { folder.appendingPathComponent($0).path }
    }

    /// Records that `series` was processed (its volumes published, or its failure reported), with `result` (what
    /// became of it, for people and tools), unless a newer instance opened a later version meanwhile: then that
    /// version stays to be processed.
    public func markProcessed(_ series: SpooledSeries, result: String? = nil) throws {
        try journal.queue.write { db in
            try db.execute(
                sql: "UPDATE series SET state = 'processed', result = ? WHERE study = ? AND series = ? AND version = ?",
                arguments: [result, series.studyInstanceUID, series.seriesInstanceUID, series.version])
        }
    }

    /// What was recorded for the latest processed version of a series, or nil.
    public func result(study: String, series: String) throws -> String? {
        try journal.queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT result FROM series WHERE study = ? AND series = ? AND state = 'processed'",
                arguments: [study, series])
        }
    }

    /// Deletes the instances of every series processed whose last instance came before `cutoff` (the retention
    /// of `serve.spool.retain_hours`), and returns what went. The series' record stays, so an instance of it that
    /// comes later still opens its next version (`-v2`, …) and never replaces the volumes written; that version
    /// holds what arrives from then on, and an instance sent again after pruning counts as new, not as a repeat.
    /// Series still receiving, waiting or being processed are never touched, nor are conflicts (kept for a person
    /// to look at).
    ///
    /// The records go first, in one transaction, then the files: a crash between the two leaves files without a
    /// record, which the next start removes.
    public func prune(processedBefore cutoff: Date) throws -> SpoolPruning {
        let doomed: [(path: String, bytes: Int)] = try journal.queue.write { db in
            let selection = """
                FROM instance WHERE (study, series) IN
                    (SELECT study, series FROM series WHERE state = 'processed' AND last_received < ?)
                """
            let rows = try Row.fetchAll(db, sql: "SELECT path, bytes " + selection, arguments: [cutoff.timeIntervalSince1970])
            try db.execute(sql: "DELETE " + selection, arguments: [cutoff.timeIntervalSince1970])
            return rows.map { ($0["path"], $0["bytes"]) }
        }
        var folders = Set<String>()
        for item in doomed {
            let file = folder.appendingPathComponent(item.path)
            try? FileManager.default.removeItem(at: file)
            folders.insert(file.deletingLastPathComponent().path)
        }
        // Empty series folders, then their study folders once empty (rmdir refuses a folder that is not).
        for series in folders {
            if rmdir(series) == 0 { _ = rmdir((series as NSString).deletingLastPathComponent) }
        }
        return SpoolPruning(instances: doomed.count, bytes: doomed.reduce(0) { $0 + $1.bytes })
    }

    /// Bytes of every instance the spool holds (conflicts aside), for its gauge.
    public func heldBytes() throws -> Int {
        try journal.queue.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM instance") ?? 0 }
    }

    /// Every conflict kept aside: the SOP Instance UID and where its other bytes are.
    public func conflicts() throws -> [(sopInstanceUID: String, path: String)] {
        try journal.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT sop, path FROM conflict ORDER BY received").map { ($0["sop"], $0["path"]) }
        }
    }

    /// Closes the journal. Later calls throw.
    public func close() throws { try journal.queue.close() }

    private static func series(_ row: Row) -> SpooledSeries {
        SpooledSeries(
            studyInstanceUID: row["study"], seriesInstanceUID: row["series"], version: row["version"],
            isProcessed: (row["state"] as String) == "processed",
            lastReceived: Date(timeIntervalSince1970: row["last_received"]))
    }

    private func checkFreeSpace() throws(IntakeError) {
        var stats = statvfs()
        guard statvfs(folder.path, &stats) == 0 else {
            throw .writeFailed(path: folder.path, reason: "cannot read the free space (errno \(errno))")
        }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        if free < minimumFreeBytes { throw .spoolFull(folder: folder.path, freeBytes: free, minimumBytes: minimumFreeBytes) }
    }

    /// A UID as a file name: itself when it is a plain DICOM UID, else a hash of it (a sender's UID is untrusted
    /// input, and must not climb out of the spool with `/` or `..`).
    static func name(_ uid: String) -> String {
        let plain = !uid.isEmpty && uid.utf8.count <= 64 && uid.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (48...57).contains($0) }
            && uid.first != "."
        if plain { return uid }
        return "x" + SHA256.hash(data: Data(uid.utf8)).hex.prefix(40)
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw IntakeError.writeFailed(path: path, reason: "cannot open the written instance")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { hasher.update(data: piece) }
        return hasher.finalize().hex
    }
}
