import Foundation
import Testing

@testable import HounsfieldDistributed

@Suite("Journal: leases, epochs, fencing, quarantine, resume")
struct JournalTests {
    @Test("an expired lease is given again with epoch + 1, and the old holder's late completion is refused")
    func expiredLeaseIsFenced() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([100]))

        let first = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        #expect(first.epoch == 1)
        #expect(first.deadline == JournalFixture.at(60))
        #expect(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(30)) == nil)

        // w1 stalls past its deadline; w2's request takes the unit back and gets it under epoch 2.
        let second = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(61)))
        #expect(second.unit == first.unit)
        #expect(second.epoch == 2)
        let attempts = try journal.attempts(of: first.unit.id)
        #expect(attempts.map(\.worker) == ["w1", "w2"])
        #expect(attempts.map(\.end) == [.expired, nil])
        #expect(attempts[0].error?.contains("no heartbeat") == true)

        // w1 wakes up: its heartbeat and completion are refused and change nothing.
        let late = #expect(throws: JournalError.self) {
            try journal.complete(
                unit: first.unit.id, epoch: 1, outcomes: JournalFixture.outcomes(for: first.unit, worker: "w1"))
        }
        #expect(late == .staleLease(unit: first.unit.id, epoch: 1, currentEpoch: 2, state: .leased))
        #expect(throws: JournalError.self) { try journal.renew(lease: first, now: JournalFixture.at(62)) }
        #expect(throws: JournalError.self) { try journal.fail(unit: first.unit.id, epoch: 1, error: "late") }
        #expect(try journal.state(of: first.unit.id) == .leased(worker: "w2", epoch: 2, deadline: JournalFixture.at(121)))
        #expect(try journal.outcomes().isEmpty)

        let outcomes = JournalFixture.outcomes(for: second.unit, worker: "w2")
        try journal.complete(unit: second.unit.id, epoch: 2, outcomes: outcomes)
        #expect(try journal.state(of: second.unit.id) == .done(outcomes: outcomes))
        #expect(try journal.isFinished)

        // A second completion of a settled unit is refused too, whatever its epoch.
        let again = #expect(throws: JournalError.self) {
            try journal.complete(unit: second.unit.id, epoch: 2, outcomes: outcomes)
        }
        #expect(again == .staleLease(unit: second.unit.id, epoch: 2, currentEpoch: 2, state: .done))
        #expect(try journal.outcomes() == outcomes)
    }

    @Test("a lease expired but not yet taken back is reclaimed only by the next lease call; its late completion is refused after that")
    func reclaimIsLazy() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([10, 20]))
        let lease = try #require(try journal.lease(worker: "w1", ttl: 10, now: JournalFixture.at(0)))
        #expect(lease.unit.size == 20)
        // Past the deadline, nobody else holds the unit yet: the completion counts.
        try journal.complete(unit: lease.unit.id, epoch: 1, outcomes: [])
        let other = try #require(try journal.lease(worker: "w1", ttl: 10, now: JournalFixture.at(20)))
        #expect(try journal.reclaimExpired(now: JournalFixture.at(31)) == 1)
        #expect(try journal.state(of: other.unit.id) == .pending)
        let late = #expect(throws: JournalError.self) { try journal.complete(unit: other.unit.id, epoch: 1, outcomes: []) }
        #expect(late == .staleLease(unit: other.unit.id, epoch: 1, currentEpoch: 1, state: .pending))
    }

    @Test("heartbeats extend a lease by its TTL; a renewal under a stale epoch or another worker's name is refused")
    func heartbeatRenewal() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([5]))
        var lease = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        for beat in stride(from: 20.0, through: 200, by: 20) {
            lease = try journal.renew(lease: lease, now: JournalFixture.at(beat))
            #expect(lease.deadline == JournalFixture.at(beat + 60))
            #expect(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(beat + 1)) == nil)
        }
        #expect(lease.epoch == 1)
        let impostor = Lease(unit: lease.unit, worker: "w2", epoch: 1, deadline: lease.deadline)
        #expect(throws: JournalError.self) { try journal.renew(lease: impostor, now: JournalFixture.at(201)) }
        let future = Lease(unit: lease.unit, worker: "w1", epoch: 2, deadline: lease.deadline)
        #expect(throws: JournalError.self) { try journal.renew(lease: future, now: JournalFixture.at(201)) }
        // The heartbeats stop: 60 s after the last one the unit goes to w2.
        let taken = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(261)))
        #expect(taken.epoch == 2)
        #expect(throws: JournalError.self) { try journal.renew(lease: lease, now: JournalFixture.at(262)) }
    }

    @Test("a unit that takes down or stalls three distinct workers is quarantined with every error")
    func quarantineAfterThreeDistinctWorkers() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([7]))
        let a = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        #expect(try journal.fail(unit: a.unit.id, epoch: a.epoch, error: "w1: SIGSEGV in decoder") == .pending)
        _ = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(1)))  // w2 stalls
        let c = try #require(try journal.lease(worker: "w3", ttl: 60, now: JournalFixture.at(100)))
        #expect(c.epoch == 3)
        #expect(try journal.fail(unit: c.unit.id, epoch: c.epoch, error: "w3: out of memory") == .quarantined)

        guard case .quarantined(let errors) = try journal.state(of: a.unit.id) else {
            Issue.record("the unit is not quarantined")
            return
        }
        #expect(errors.map(\.worker) == ["w1", "w2", "w3"])
        #expect(errors.map(\.end) == [.failed, .expired, .failed])
        #expect(errors[0].error == "w1: SIGSEGV in decoder")
        #expect(errors[2].error == "w3: out of memory")
        #expect(try journal.lease(worker: "w4", ttl: 60, now: JournalFixture.at(200)) == nil)
        #expect(try journal.counts().quarantined == 1)
        #expect(try journal.isFinished)
    }

    @Test("one worker failing on a unit three times is not three workers; the attempt limit still ends it")
    func oneWorkerIsNotThreeWorkers() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open(quarantineAfter: 3, attemptLimit: 5)
        try journal.add(units: JournalFixture.folders([7]))
        for attempt in 1...4 {
            let lease = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(Double(attempt))))
            #expect(lease.epoch == Int64(attempt))
            #expect(try journal.fail(unit: lease.unit.id, epoch: lease.epoch, error: "crash \(attempt)") == .pending)
        }
        let last = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(10)))
        #expect(try journal.fail(unit: last.unit.id, epoch: last.epoch, error: "crash 5") == .quarantined)
    }

    @Test("a worker is given a unit it has not failed on before the one it has, when there is one")
    func workersAvoidUnitsThatTookThemDown() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([100, 50]))
        let big = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        #expect(big.unit.size == 100)
        try journal.fail(unit: big.unit.id, epoch: big.epoch, error: "abort")
        let next = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(1)))
        #expect(next.unit.size == 50)
        let back = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(2)))
        #expect(back.unit.size == 100)
        #expect(back.epoch == 2)
    }

    @Test("a failure that no other worker would undo fails the unit for good")
    func permanentFailure() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([1]))
        let lease = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        #expect(try journal.fail(unit: lease.unit.id, epoch: 1, error: "folder is gone", retryable: false) == .failed)
        #expect(try journal.state(of: lease.unit.id) == .failed(reason: "folder is gone"))
        #expect(try journal.isFinished)
    }

    @Test("units are leased largest first, ties by the order they were added")
    func largestFirst() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        let sizes: [Int64] = [30, 500, 7, 500, 1_000_000, 0, 42, 30]
        try journal.add(units: JournalFixture.folders(sizes))
        var leased: [WorkUnit] = []
        while let lease = try journal.lease(worker: "w\(leased.count % 3)", ttl: 60, now: JournalFixture.at(0)) {
            leased.append(lease.unit)
        }
        #expect(leased.map(\.size) == sizes.sorted(by: >))
        #expect(leased.map(\.path).prefix(3) == ["/archive/study-4", "/archive/study-1", "/archive/study-3"])
        #expect(try journal.counts().leased == sizes.count)
        #expect(try !journal.isFinished)
    }

    @Test("several units leased in one call come largest first, after expired leases are taken back")
    func batchLease() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([5, 50, 20, 40, 10]))
        let first = try journal.lease(worker: "w1", count: 3, ttl: 10, now: JournalFixture.at(0))
        #expect(first.map(\.unit.size) == [50, 40, 20])
        #expect(first.map(\.epoch) == [1, 1, 1])
        // One casualty each: not suspects yet, so they go back to work at once, largest first.
        let rest = try journal.lease(worker: "w2", count: 5, ttl: 10, now: JournalFixture.at(11))
        #expect(rest.map(\.unit.size) == [50, 40, 20, 10, 5])
        #expect(rest.prefix(3).map(\.epoch) == [2, 2, 2])
        #expect(try journal.lease(worker: "w3", count: 2, ttl: 10, now: JournalFixture.at(12)).isEmpty)
        // Expired again (a second casualty each): now suspects, each goes alone to a worker holding nothing else.
        let alone = try (4...7).map { try journal.lease(worker: "w\($0)", count: 5, ttl: 10, now: JournalFixture.at(30)) }
        #expect(alone.map { $0.map(\.unit.size) } == [[50], [40], [20], [10, 5]])
        #expect(try journal.lease(worker: "w4", count: 1, ttl: 10, now: JournalFixture.at(30)).isEmpty)
        #expect(try journal.attempts(of: first[0].unit.id).map(\.end) == [.expired, .expired, nil])
    }

    @Test("adding is idempotent by path and leaves known units as they are; 100k units go in one transaction")
    func idempotentAdd() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        #expect(try journal.add(units: JournalFixture.folders([1, 2, 3])) == AddResult(added: 3, alreadyPresent: 0))
        let lease = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        var again = JournalFixture.folders([9, 9, 9, 4])
        again.append(again[0])
        #expect(try journal.add(units: again) == AddResult(added: 1, alreadyPresent: 4))
        #expect(try journal.unit(path: "/archive/study-0")?.size == 1)
        #expect(try journal.state(of: lease.unit.id) == .leased(worker: "w1", epoch: 1, deadline: JournalFixture.at(60)))
        #expect(try journal.counts() == { var c = UnitCounts(); c.pending = 3; c.leased = 1; return c }())

        let many = (0..<100_000).map { StudyFolder(path: "/big/\($0)", size: Int64($0 % 977)) }
        let start = ContinuousClock.now
        let result = try journal.add(units: many)
        let elapsed = ContinuousClock.now - start
        #expect(result.added == 100_000)
        #expect(try journal.counts().total == 100_004)
        #expect(elapsed < .seconds(60), "100k units took \(elapsed)")
        let largest = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(1)))
        #expect(largest.unit.size == 976)
    }

    @Test("completions that repeat a key already done, or within themselves, are refused")
    func eachKeyOnce() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let journal = try fixture.open()
        try journal.add(units: JournalFixture.folders([2, 1]))
        let a = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
        let b = try #require(try journal.lease(worker: "w2", ttl: 60, now: JournalFixture.at(0)))
        let outcome = UnitOutcome(key: "1.2.3", shard: "s1.h5", checksum: "x")
        try journal.complete(unit: a.unit.id, epoch: a.epoch, outcomes: [outcome])
        let clash = #expect(throws: JournalError.self) {
            try journal.complete(unit: b.unit.id, epoch: b.epoch, outcomes: [outcome])
        }
        #expect(clash == .duplicateKey(key: "1.2.3", unit: b.unit.id, heldBy: a.unit.id))
        let twice = UnitOutcome(key: "4.5.6", shard: "s2.h5", checksum: "y")
        #expect(throws: JournalError.self) {
            try journal.complete(unit: b.unit.id, epoch: b.epoch, outcomes: [twice, twice])
        }
        #expect(try journal.state(of: b.unit.id) == .leased(worker: "w2", epoch: 1, deadline: JournalFixture.at(60)))
        try journal.complete(unit: b.unit.id, epoch: b.epoch, outcomes: [twice])
        #expect(try journal.outcomes().map(\.key) == ["1.2.3", "4.5.6"])
    }

    @Test("a journal reopened after its process died resumes: valid leases stay, expired ones are taken back")
    func reopenResumes() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        let short: Lease
        var long: Lease
        do {
            // The first coordinator: never closed, as when its process is killed.
            let journal = try fixture.open()
            try journal.add(units: JournalFixture.folders([40, 30, 20, 10]))
            let done = try #require(try journal.lease(worker: "w1", ttl: 60, now: JournalFixture.at(0)))
            try journal.complete(
                unit: done.unit.id, epoch: done.epoch, outcomes: JournalFixture.outcomes(for: done.unit, worker: "w1"))
            short = try #require(try journal.lease(worker: "w2", ttl: 10, now: JournalFixture.at(0)))
            long = try #require(try journal.lease(worker: "w3", ttl: 600, now: JournalFixture.at(0)))
        }
        let journal = try fixture.open()
        var expected = UnitCounts()
        expected.done = 1
        expected.leased = 2
        expected.pending = 1
        #expect(try journal.counts() == expected)
        #expect(try journal.state(of: long.unit.id) == .leased(worker: "w3", epoch: 1, deadline: JournalFixture.at(600)))

        // At t = 20 the short lease has expired: the next lease takes it back (largest pending first: it is 30).
        let next = try #require(try journal.lease(worker: "w4", ttl: 60, now: JournalFixture.at(20)))
        #expect(next.unit == short.unit)
        #expect(next.epoch == 2)
        #expect(throws: JournalError.self) { try journal.complete(unit: short.unit.id, epoch: 1, outcomes: []) }
        long = try journal.renew(lease: long, now: JournalFixture.at(21))
        try journal.complete(unit: long.unit.id, epoch: long.epoch, outcomes: [])
        try journal.complete(unit: next.unit.id, epoch: next.epoch, outcomes: [])
        let last = try #require(try journal.lease(worker: "w4", ttl: 60, now: JournalFixture.at(22)))
        #expect(last.unit.size == 10)
        try journal.complete(unit: last.unit.id, epoch: last.epoch, outcomes: [])
        #expect(try journal.isFinished)
        try journal.close()
    }
}
