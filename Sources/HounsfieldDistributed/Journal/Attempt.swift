import Foundation

/// One lease of a unit, from its assignment to its end: the journal's record of which workers took a unit and how
/// each attempt ended.
public struct Attempt: Sendable, Hashable, Codable {
    /// How an attempt ended.
    public enum End: String, Sendable, Hashable, Codable {
        /// The worker completed the unit.
        case completed
        /// The worker reported the unit as failed (it crashed decoding it, or could not read it).
        case failed
        /// The lease passed its deadline without a heartbeat, and the unit was taken back: the worker died or stalled.
        case expired
        /// The worker handed the unit back unfinished because it was stopping (SIGTERM, preemption): not the
        /// unit's fault, so it does not count towards quarantine.
        case released
    }

    /// The unit leased.
    public let unit: WorkUnit.ID
    /// The lease's epoch (1 for the unit's first lease, one more for each next one).
    public let epoch: Int64
    /// The worker that held the lease.
    public let worker: String
    /// When the lease was given.
    public let started: Date
    /// How the attempt ended; nil while the lease is held.
    public let end: End?
    /// The worker's error, or why the lease expired; nil for a completed or running attempt.
    public let error: String?

    /// An attempt as the journal records it.
    public init(unit: WorkUnit.ID, epoch: Int64, worker: String, started: Date, end: End?, error: String?) {
        self.unit = unit
        self.epoch = epoch
        self.worker = worker
        self.started = started
        self.end = end
        self.error = error
    }

    /// Whether this attempt took its worker down or stalled it (failed or expired): what counts towards quarantine.
    public var isCasualty: Bool {
        end == .failed || end == .expired
    }
}
