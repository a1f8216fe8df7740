import Foundation

/// A unit handed to a worker until a deadline: the worker heartbeats (`Journal.renew(lease:now:)`) to keep it, and
/// presents its epoch with the unit's completion or failure.
public struct Lease: Sendable, Hashable, Codable {
    /// The unit leased.
    public let unit: WorkUnit
    /// The worker holding the lease.
    public let worker: String
    /// The fencing token: one more than the unit's previous lease. Only the current epoch's completion counts.
    public let epoch: Int64
    /// When the lease expires unless renewed.
    public let deadline: Date

    /// A lease as the journal gives it.
    public init(unit: WorkUnit, worker: String, epoch: Int64, deadline: Date) {
        self.unit = unit
        self.worker = worker
        self.epoch = epoch
        self.deadline = deadline
    }
}
