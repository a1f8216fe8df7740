import Foundation
import HounsfieldCore
import Testing

@testable import HounsfieldDistributed

@Suite("Journal: random lease, renew, complete, fail and expiry from several workers keep the invariants")
struct JournalPropertyTests {
    @Test("invariants hold after every step", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomSchedules(seed: UInt64) throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        var random = SplitMix64(seed: seed)
        let quarantineAfter = 3
        let attemptLimit = 5
        var journal = try fixture.open(quarantineAfter: quarantineAfter, attemptLimit: attemptLimit)
        let unitCount = Int.random(in: 8...20, using: &random)
        try journal.add(units: (0..<unitCount).map { StudyFolder(path: "/p/\($0)", size: Int64.random(in: 0...50, using: &random)) })
        let workers = (0..<5).map { "w\($0)" }
        var held: [String: [Lease]] = [:]  // every lease each worker was ever given and has not let go of
        var clock = 0.0
        var acceptedKeys: [String] = []
        var steps = 0
        var refused = 0

        while try !journal.isFinished {
            steps += 1
            try #require(steps < 5_000, "seed \(seed): the run does not finish")
            let worker = workers.randomElement(using: &random)!
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<30:
                if let lease = try journal.lease(worker: worker, ttl: 10, now: JournalFixture.at(clock)) {
                    held[worker, default: []].append(lease)
                }
            case 30..<45:
                guard let lease = held[worker]?.randomElement(using: &random) else { continue }
                let fresh = try isCurrent(lease, in: journal)
                let before = try journal.state(of: lease.unit.id)
                do {
                    let renewed = try journal.renew(lease: lease, now: JournalFixture.at(clock))
                    #expect(fresh, "seed \(seed): a stale lease was renewed")
                    held[worker] = held[worker]!.map { $0 == lease ? renewed : $0 }
                } catch let error as JournalError {
                    #expect(!fresh, "seed \(seed): a current lease was refused: \(error)")
                    #expect(try journal.state(of: lease.unit.id) == before)
                    refused += 1
                }
            case 45..<90:
                guard let index = held[worker]?.indices.randomElement(using: &random) else { continue }
                let lease = held[worker]!.remove(at: index)
                let fresh = try isCurrent(lease, in: journal)
                let before = try journal.state(of: lease.unit.id)
                let beforeOutcomes = try journal.outcomes()
                do {
                    if roll < 75 {
                        let outcomes = JournalFixture.outcomes(
                            for: lease.unit, worker: worker, count: Int(lease.unit.size % 3))
                        try journal.complete(unit: lease.unit.id, epoch: lease.epoch, outcomes: outcomes)
                        acceptedKeys += outcomes.map(\.key)
                    } else {
                        try journal.fail(unit: lease.unit.id, epoch: lease.epoch, error: "\(worker) crashed")
                    }
                    #expect(fresh, "seed \(seed): a stale epoch changed the journal")
                } catch let error as JournalError {
                    #expect(!fresh, "seed \(seed): a current lease was refused: \(error)")
                    #expect(try journal.state(of: lease.unit.id) == before)
                    #expect(try journal.outcomes() == beforeOutcomes)
                    refused += 1
                }
            case 90..<97:
                clock += Double.random(in: 1...12, using: &random)
            default:
                // The coordinator dies and comes back on the same file.
                journal = try fixture.open(quarantineAfter: quarantineAfter, attemptLimit: attemptLimit)
            }
            try Self.checkInvariants(journal, quarantineAfter: quarantineAfter, attemptLimit: attemptLimit, seed: seed)
        }
        // Every key accepted is in the done set exactly once, and nothing else is.
        let done = try journal.outcomes().map(\.key)
        #expect(Set(done).count == done.count)
        #expect(done.sorted() == acceptedKeys.sorted())
        #expect(try journal.counts().total == unitCount)
        // The schedule did exercise fencing, expiry and settling (not only the happy path).
        let attempts = try journal.units().flatMap { try journal.attempts(of: $0.id) }
        let expired = attempts.filter { $0.end == .expired }.count
        #expect(refused > 0 && expired > 0, "seed \(seed): \(refused) refused, \(expired) expired")
    }

    /// Whether `lease` is its unit's current lease, as a worker's call will be judged.
    func isCurrent(_ lease: Lease, in journal: Journal) throws -> Bool {
        if case .leased(let worker, let epoch, _) = try journal.state(of: lease.unit.id) {
            return worker == lease.worker && epoch == lease.epoch
        }
        return false
    }

    static func checkInvariants(_ journal: Journal, quarantineAfter: Int, attemptLimit: Int, seed: UInt64) throws {
        for unit in try journal.units() {
            let state = try journal.state(of: unit.id)
            let attempts = try journal.attempts(of: unit.id)
            let open = attempts.filter { $0.end == nil }
            let casualties = attempts.filter(\.isCasualty)
            // Leased by at most one worker: exactly one open attempt while leased, and it is the lease's.
            if case .leased(let worker, let epoch, _) = state {
                #expect(open.count == 1 && open.first?.worker == worker && open.first?.epoch == epoch, "seed \(seed)")
            } else {
                #expect(open.isEmpty, "seed \(seed): \(unit.id) is not leased but has an open attempt")
            }
            #expect(attempts.map(\.epoch) == (0..<attempts.count).map { Int64($0) + 1 }, "seed \(seed)")
            #expect(Set(casualties.map(\.worker)).count <= quarantineAfter, "seed \(seed)")
            #expect(casualties.count <= attemptLimit, "seed \(seed)")
            #expect(attempts.filter { $0.end == .completed }.count <= 1, "seed \(seed)")
            if case .done = state {
                #expect(attempts.last?.end == .completed, "seed \(seed)")
            }
            if case .quarantined(let errors) = state {
                #expect(
                    Set(errors.map(\.worker)).count == quarantineAfter || errors.count == attemptLimit, "seed \(seed)")
            }
        }
        let keys = try journal.outcomes().map(\.key)
        #expect(Set(keys).count == keys.count, "seed \(seed): a key is done twice")
    }
}
