/// How many units a journal holds in each state.
public struct UnitCounts: Sendable, Hashable, Codable {
    /// Units waiting for a worker (expired leases not yet reclaimed count as leased).
    public var pending = 0
    /// Units held by a worker.
    public var leased = 0
    /// Units completed.
    public var done = 0
    /// Units failed for good.
    public var failed = 0
    /// Units set aside after taking down too many workers.
    public var quarantined = 0

    /// No units.
    public init() {}

    /// Every unit in the journal.
    public var total: Int {
        pending + leased + done + failed + quarantined
    }

    /// The count of one state.
    public subscript(kind: UnitState.Kind) -> Int {
        get {
            switch kind {
            case .pending: pending
            case .leased: leased
            case .done: done
            case .failed: failed
            case .quarantined: quarantined
            }
        }
        set {
            switch kind {
            case .pending: pending = newValue
            case .leased: leased = newValue
            case .done: done = newValue
            case .failed: failed = newValue
            case .quarantined: quarantined = newValue
            }
        }
    }
}
