/// Where an inspection is: which phase, and how much of it is done. Long inspections show progress with it.
public struct InspectionProgress: Hashable, Sendable {
    /// The two phases of an inspection, in order.
    public enum Phase: String, Hashable, Sendable {
        /// Reading headers; `done` and `total` count files.
        case headers
        /// Decoding series for statistics; `done` and `total` count series.
        case decoding
    }

    /// The phase in progress.
    public var phase: Phase
    /// Files (headers) or series (decoding) finished.
    public var done: Int
    /// Files (headers) or series (decoding) in all.
    public var total: Int

    /// `done` of `total` in `phase`.
    public init(phase: Phase, done: Int, total: Int) {
        self.phase = phase
        self.done = done
        self.total = total
    }
}
