import ArgumentParser
import Foundation
import Hounsfield
import HounsfieldDistributed

/// Throughput of the coordinator's journal (docs/scale-out.md): `--units` study folders added in one transaction,
/// then `--leases` leases (`--batch` per transaction) and as many completions, one transaction (and one fsync) each,
/// as a coordinator makes them.
/// The journal lives in `--folder` (default: a temporary folder), since fsync costs what that disk makes it cost.
struct JournalJob: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Lease and completion throughput of the coordinator's journal.")

    @Option(help: "Units in the journal.") var units = 100_000
    @Option(help: "Leases (and completions) timed.") var leases = 20_000
    @Option(help: "Keys reported with each completion.") var keys = 4
    @Option(help: "Units leased per call (one transaction), as a worker running several units at once asks.")
    var batch = 1
    @Option(help: "Folder for the journal file (removed afterwards).") var folder: String?

    func run() throws {
        let base = URL(fileURLWithPath: folder ?? FileManager.default.temporaryDirectory.path)
            .appendingPathComponent("hf-bench-journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let journal = try Journal(path: base.appendingPathComponent("journal.sqlite").path)
        let now = Date(timeIntervalSince1970: 1_800_000_000)

        var start = ContinuousClock.now
        try journal.add(units: (0..<units).map { StudyFolder(path: "/archive/\($0)", size: Int64($0 % 10_007)) })
        let addSeconds = (ContinuousClock.now - start).inSeconds

        var held: [Lease] = []
        held.reserveCapacity(leases)
        start = ContinuousClock.now
        var call = 0
        while held.count < leases {
            let given = try journal.lease(
                worker: "w\(call % 64)", count: min(batch, leases - held.count), ttl: 60, now: now)
            guard !given.isEmpty else { break }
            held += given
            call += 1
        }
        let leaseSeconds = (ContinuousClock.now - start).inSeconds

        start = ContinuousClock.now
        for lease in held {
            let outcomes = (0..<keys).map {
                UnitOutcome(key: "\(lease.unit.path)#\($0)", shard: "shard-\(lease.worker).h5", checksum: "sha256:\($0)")
            }
            try journal.complete(unit: lease.unit.id, epoch: lease.epoch, outcomes: outcomes)
        }
        let completeSeconds = (ContinuousClock.now - start).inSeconds
        try journal.close()
        try printJSON([
            "units": units, "leases": held.count, "add_s": addSeconds, "leases_per_s": Double(held.count) / leaseSeconds,
            "completions_per_s": Double(held.count) / completeSeconds, "keys_per_completion": keys, "batch": batch,
        ])
    }
}
