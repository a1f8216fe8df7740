import Foundation

/// Where a unit stands in the journal.
///
/// `pending → leased → done` is the usual path. A lease that expires, or a failure while fewer than the quarantine
/// threshold's distinct workers have gone down on the unit, sends it back to `pending`. `failed` is a failure that no
/// other worker would undo (the folder is gone); `quarantined` is a unit that took down or stalled too many workers.
/// `done`, `failed` and `quarantined` are final.
public enum UnitState: Sendable, Hashable {
    /// Waiting for a worker.
    case pending
    /// Held by `worker` under `epoch` until `deadline`.
    case leased(worker: String, epoch: Int64, deadline: Date)
    /// Completed: the keys, shards and checksums its worker wrote (possibly none).
    case done(outcomes: [UnitOutcome])
    /// Failed for good, with the worker's reason.
    case failed(reason: String)
    /// Set aside after it took down or stalled too many distinct workers: every failed or expired attempt, oldest
    /// first.
    case quarantined(errors: [Attempt])

    /// The state without its details: how the journal stores and counts it.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// See `UnitState.pending`.
        case pending
        /// See `UnitState.leased(worker:epoch:deadline:)`.
        case leased
        /// See `UnitState.done(outcomes:)`.
        case done
        /// See `UnitState.failed(reason:)`.
        case failed
        /// See `UnitState.quarantined(errors:)`.
        case quarantined

        /// Whether a unit in this state is settled: done, failed or quarantined.
        public var isFinal: Bool {
            self == .done || self == .failed || self == .quarantined
        }
    }

    /// The state's kind.
    public var kind: Kind {
        switch self {
        case .pending: .pending
        case .leased: .leased
        case .done: .done
        case .failed: .failed
        case .quarantined: .quarantined
        }
    }
}
