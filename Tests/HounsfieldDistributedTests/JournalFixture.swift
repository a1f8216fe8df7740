import Foundation

@testable import HounsfieldDistributed

/// A journal in a fresh temporary folder, and a clock the test moves by hand.
struct JournalFixture {
    let folder: URL
    var path: String { folder.appendingPathComponent("journal.sqlite").path }
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("hf-journal-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func open(quarantineAfter: Int = 3, attemptLimit: Int? = nil) throws -> Journal {
        try Journal(path: path, quarantineAfter: quarantineAfter, attemptLimit: attemptLimit)
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// `seconds` after the fixture's start.
    static func at(_ seconds: Double) -> Date {
        start.addingTimeInterval(seconds)
    }

    /// Study folders named `study-<i>` with the given sizes.
    static func folders(_ sizes: [Int64]) -> [StudyFolder] {
        sizes.enumerated().map { StudyFolder(path: "/archive/study-\($0.offset)", size: $0.element) }
    }

    /// The outcomes a worker reports for a unit: keys derived from the unit's path, so two workers converting the
    /// same unit report the same keys.
    static func outcomes(for unit: WorkUnit, worker: String, count: Int = 2) -> [UnitOutcome] {
        (0..<count).map {
            UnitOutcome(
                key: "\(unit.path)#series-\($0)", shard: "shard-\(worker)-\(unit.id.rawValue).h5",
                checksum: "sha256:\(unit.id.rawValue)-\($0)")
        }
    }
}
