import Foundation
import Testing

@testable import HounsfieldDistributed

#if canImport(Glibc)
    import Glibc
#endif

/// Lines a child process printed, gathered from its pipe on another thread.
final class ChildOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    func append(_ data: Data) {
        lock.withLock { text += String(decoding: data, as: UTF8.self) }
    }

    /// The ids of the units the child said it completed (its lines `done <id>`).
    var acknowledged: [Int64] {
        lock.withLock {
            text.split(separator: "\n").compactMap { line in
                line.hasPrefix("done ") ? Int64(line.dropFirst(5)) : nil
            }
        }
    }
}

@Suite("Journal: a coordinator SIGKILLed in the middle of a transaction")
struct JournalCrashTests {
    static let childVariable = "HF_JOURNAL_CRASH_CHILD"
    static let keysPerUnit = 200

    /// Run only as the child of `sigkillMidTransaction`: leases and completes units until it is killed, printing
    /// `done <id>` after each completion returned (the acknowledgement a worker would get).
    @Test(
        "child: lease and complete units until killed",
        .enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil, "only as a child process"))
    func crashChild() throws {
        let journal = try Journal(path: ProcessInfo.processInfo.environment[Self.childVariable]!)
        var clock = 0.0
        while true {
            clock += 1
            guard let lease = try journal.lease(worker: "child", ttl: 1e9, now: JournalFixture.at(clock)) else { return }
            let outcomes = JournalFixture.outcomes(for: lease.unit, worker: "child", count: Self.keysPerUnit)
            try journal.complete(unit: lease.unit.id, epoch: lease.epoch, outcomes: outcomes)
            FileHandle.standardOutput.write(Data("done \(lease.unit.id.rawValue)\n".utf8))
        }
    }

    @Test("reopened, the journal holds every acknowledged completion and nothing half-written")
    func sigkillMidTransaction() throws {
        let fixture = try JournalFixture()
        defer { fixture.remove() }
        do {
            let journal = try fixture.open()
            try journal.add(units: (0..<5_000).map { StudyFolder(path: "/c/\($0)", size: Int64($0)) })
            try journal.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--testing-library", "swift-testing", "--filter", "crashChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = fixture.path
        process.environment = environment
        let pipe = Pipe()
        let output = ChildOutput()
        pipe.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while output.acknowledged.count < 30 && process.isRunning && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.05))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        output.append(pipe.fileHandleForReading.readDataToEndOfFile())
        #expect(process.terminationReason == .uncaughtSignal)
        let acknowledged = output.acknowledged
        try #require(acknowledged.count >= 30, "the child acknowledged only \(acknowledged.count) completions")

        let journal = try fixture.open()
        let counts = try journal.counts()
        // Every acknowledged completion survived; at most one more committed before its line was printed.
        #expect(counts.done >= acknowledged.count && counts.done <= acknowledged.count + 1)
        #expect(counts.leased <= 1)
        #expect(counts.total == 5_000)
        for id in acknowledged {
            guard case .done(let outcomes) = try journal.state(of: WorkUnit.ID(id)) else {
                Issue.record("unit \(id) was acknowledged but is not done")
                continue
            }
            #expect(outcomes.count == Self.keysPerUnit)
        }
        #expect(try journal.outcomes().count == counts.done * Self.keysPerUnit)
        try JournalPropertyTests.checkInvariants(journal, quarantineAfter: 3, attemptLimit: 6, seed: 0)
        // The run goes on from where the child stopped.
        let next = try #require(try journal.lease(worker: "after", ttl: 60, now: JournalFixture.at(0)))
        try journal.complete(unit: next.unit.id, epoch: next.epoch, outcomes: [])
    }
}
