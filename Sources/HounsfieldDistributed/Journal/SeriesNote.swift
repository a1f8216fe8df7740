/// A series of a done unit that was not written: it failed (with its stage, file and error), was filtered, or its
/// key was already done by another unit (the same series in two study folders). What the run's report lists and
/// what makes the coordinator exit 3, as `hounsfield run` does when a series fails.
public struct SeriesNote: Sendable, Hashable, Codable {
    /// The series' key (hashed identity).
    public let key: String
    /// What became of it, as report.json spells it (`failed`, `filtered`, `duplicate`, …).
    public let status: String
    /// The stage that failed, when failed.
    public let stage: String?
    /// The file at fault, when the failure names one.
    public let file: String?
    /// The failure or the reason, in a sentence.
    public let error: String?

    /// A note as the coordinator records it.
    public init(key: String, status: String, stage: String? = nil, file: String? = nil, error: String? = nil) {
        self.key = key
        self.status = status
        self.stage = stage
        self.file = file
        self.error = error
    }
}
