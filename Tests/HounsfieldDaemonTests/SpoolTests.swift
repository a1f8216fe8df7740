import Foundation
@testable import HounsfieldDaemon
import Testing

/// The spool's promises: what it acknowledged is on disk and recorded, repeats change nothing, a repeated UID with
/// other bytes never replaces the first, late instances open a new version, and a full spool refuses.
@Suite("Intake spool: write, fsync, record, then acknowledge")
struct SpoolTests {
    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)")
    }

    static func identity(_ instance: String, series: String = "1.2.3.4", study: String = "1.2.3") -> InstanceIdentity {
        InstanceIdentity(study: study, series: series, instance: instance, sopClass: "1.2.840.10008.5.1.4.1.1.2")
    }

    @Test("a stored instance is in place with its bytes, recorded, and still there after a reopen")
    func storedAndRecorded() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: 0)
        guard case .stored(let held) = try spool.accept(bytes: [1, 2, 3], as: Self.identity("1.2.3.4.1")) else {
            Issue.record("not stored")
            return
        }
        #expect(held.seriesVersion == 1)
        #expect(FileManager.default.contents(atPath: root.appendingPathComponent(held.path).path) == Data([1, 2, 3]))
        try spool.close()

        let reopened = try Spool(folder: root, minimumFreeBytes: 0)
        let pending = try reopened.pendingSeries()
        #expect(pending.map(\.seriesInstanceUID) == ["1.2.3.4"])
        #expect(try reopened.files(of: pending[0]) == [root.appendingPathComponent(held.path).path])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("the same instance again is a repeat; other bytes under its UID are kept aside, never in its place")
    func repeatsAndConflicts() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: 0)
        guard case .stored(let first) = try spool.accept(bytes: [1, 2, 3], as: Self.identity("9.9")) else {
            Issue.record("not stored")
            return
        }
        #expect(try spool.accept(bytes: [1, 2, 3], as: Self.identity("9.9")) == .repeated(first))
        guard case .conflict(let aside, let held) = try spool.accept(bytes: [7, 7], as: Self.identity("9.9")) else {
            Issue.record("no conflict")
            return
        }
        #expect(held == first)
        #expect(FileManager.default.contents(atPath: root.appendingPathComponent(first.path).path) == Data([1, 2, 3]))
        #expect(FileManager.default.contents(atPath: root.appendingPathComponent(aside).path) == Data([7, 7]))
        #expect(try spool.conflicts().map(\.sopInstanceUID) == ["9.9"])
    }

    @Test("series are ready once quiet; an instance after processing opens the next version with every instance")
    func versions() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: 0)
        let start = Date(timeIntervalSince1970: 1_000_000)
        _ = try spool.accept(bytes: [1], as: Self.identity("5.1"), now: start)
        _ = try spool.accept(bytes: [2], as: Self.identity("5.2"), now: start + 1)
        #expect(try spool.quietSeries(since: start + 1).isEmpty)
        let ready = try spool.quietSeries(since: start + 31)
        #expect(ready.count == 1 && ready[0].version == 1)
        #expect(try spool.files(of: ready[0]).count == 2)
        try spool.markProcessed(ready[0])
        #expect(try spool.pendingSeries().isEmpty)

        guard case .stored(let late) = try spool.accept(bytes: [3], as: Self.identity("5.3"), now: start + 60) else {
            Issue.record("not stored")
            return
        }
        #expect(late.seriesVersion == 2)
        let next = try spool.pendingSeries()
        #expect(next.count == 1 && next[0].version == 2)
        #expect(try spool.files(of: next[0]).count == 3)
        // Marking the old version processed again does not hide the new one.
        try spool.markProcessed(ready[0])
        #expect(try spool.pendingSeries().map(\.version) == [2])
    }

    @Test("retention deletes the instances of series processed long enough ago, keeps the rest, and a late instance still opens the next version")
    func retention() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: 0)
        let start = Date(timeIntervalSince1970: 1_000_000)
        // An old processed series, a recent processed one, and an old one never processed.
        for (index, series) in ["7.1", "7.2", "7.3"].enumerated() {
            let time = series == "7.2" ? start + 7200 : start
            _ = try spool.accept(bytes: [UInt8(index), 1], as: Self.identity("\(series).1", series: series), now: time)
            _ = try spool.accept(bytes: [UInt8(index), 2, 2], as: Self.identity("\(series).2", series: series), now: time)
        }
        for series in try spool.pendingSeries() where series.seriesInstanceUID != "7.3" { try spool.markProcessed(series) }
        let old = try #require(try spool.files(of: SpooledSeries(
            studyInstanceUID: "1.2.3", seriesInstanceUID: "7.1", version: 1, isProcessed: true, lastReceived: start)).first)
        let oldFolder = (old as NSString).deletingLastPathComponent

        let pruning = try spool.prune(processedBefore: start + 3600)
        #expect(pruning == SpoolPruning(instances: 2, bytes: 5))
        #expect(!FileManager.default.fileExists(atPath: old) && !FileManager.default.fileExists(atPath: oldFolder))
        #expect(try spool.heldBytes() == 5 + 5)
        #expect(try spool.pendingSeries().map(\.seriesInstanceUID) == ["7.3"])
        #expect(try spool.prune(processedBefore: start + 3600) == SpoolPruning(instances: 0, bytes: 0))

        // The pruned series' instance again is new (its record went), and makes version 2 of the series beside v1.
        guard case .stored(let again) = try spool.accept(bytes: [0, 1], as: Self.identity("7.1.1", series: "7.1"), now: start + 9000) else {
            Issue.record("not stored")
            return
        }
        #expect(again.seriesVersion == 2)
        let next = try #require(try spool.pendingSeries().first { $0.seriesInstanceUID == "7.1" })
        #expect(try spool.files(of: next).count == 1)
        // A reopened spool keeps what retention left (nothing unrecorded was left behind).
        try spool.close()
        let reopened = try Spool(folder: root, minimumFreeBytes: 0)
        #expect(try reopened.heldBytes() == 5 + 5 + 2)
    }

    @Test("a spool below its free-space watermark refuses, and keeps nothing of the refused instance")
    func fullSpool() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: .max)
        #expect(throws: IntakeError.self) { try spool.accept(bytes: [1], as: Self.identity("6.1")) }
        #expect(try spool.pendingSeries().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("UIDs that are not plain DICOM UIDs never become paths outside the spool")
    func hostileUIDs() throws {
        #expect(Spool.name("1.2.840.10008") == "1.2.840.10008")
        for hostile in ["../../etc/passwd", "a/b", "", ".", "..", String(repeating: "1", count: 65)] {
            let name = Spool.name(hostile)
            #expect(!name.contains("/") && name != "." && name != ".." && name.hasPrefix("x"), "\(hostile) → \(name)")
        }
    }

    @Test("files left by a crash without a record are removed at the next start")
    func unrecordedFilesRemoved() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let spool = try Spool(folder: root, minimumFreeBytes: 0)
        _ = try spool.accept(bytes: [1], as: Self.identity("8.1"))
        try spool.close()
        let orphan = root.appendingPathComponent("instances/1.2.3/1.2.3.4/8.2.dcm")
        let partial = root.appendingPathComponent("incoming/x.partial")
        try Data([9]).write(to: orphan)
        try Data([9]).write(to: partial)
        _ = try Spool(folder: root, minimumFreeBytes: 0)
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("instances/1.2.3/1.2.3.4/8.1.dcm").path))
    }
}
