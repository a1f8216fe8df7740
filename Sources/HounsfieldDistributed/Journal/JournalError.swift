/// Why the journal refused a state change. A refused change leaves the journal as it was.
public enum JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No unit has this id.
    case unknownUnit(WorkUnit.ID)
    /// Fencing: the epoch presented is not the unit's current lease (a newer lease was given, or the lease expired
    /// and was reclaimed, or the unit was already settled). The worker's result must be dropped: its shard is never
    /// referenced.
    case staleLease(unit: WorkUnit.ID, epoch: Int64, currentEpoch: Int64, state: UnitState.Kind)
    /// A completion names a key that the done set already holds (from `heldBy`, possibly the same completion).
    case duplicateKey(key: String, unit: WorkUnit.ID, heldBy: WorkUnit.ID)

    public var description: String {
        switch self {
        case .unknownUnit(let unit):
            return "\(unit) is not in the journal"
        case let .staleLease(unit, epoch, currentEpoch, state):
            let now: String =
                switch state {
                case .leased where currentEpoch != epoch: "it is leased again, at epoch \(currentEpoch)"
                case .leased: "it is leased at this epoch by another worker"
                case .pending: "the lease expired and the unit was taken back"
                case .done: "the unit is done (epoch \(currentEpoch))"
                case .failed: "the unit failed (epoch \(currentEpoch))"
                case .quarantined: "the unit is quarantined"
                }
            return "\(unit): epoch \(epoch) is not the current lease (\(now)); the result is refused"
        case let .duplicateKey(key, unit, heldBy):
            return heldBy == unit
                ? "\(unit): key \(key) appears twice in one completion; the completion is refused"
                : "\(unit): key \(key) is already done by \(heldBy); the completion is refused"
        }
    }
}
