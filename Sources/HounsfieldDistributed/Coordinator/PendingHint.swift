import Synchronization

/// Whether leasing might find a pending unit, so that idle sessions do not each run a journal transaction (with its
/// fsync) every tick while every unit is leased: 256 idle workers would otherwise cost 256 fsyncs a second.
///
/// Set whenever units may have become pending (start, a lease taken back, a unit released or failed); cleared when
/// a lease found fewer units than it asked for. A stale "true" costs one empty transaction; a stale "false" is
/// impossible, because everything that makes a unit pending sets it after its transaction commits.
final class PendingHint: Sendable {
    private let flag = Atomic<Bool>(true)

    /// Units may be pending.
    func set() { flag.store(true, ordering: .releasing) }
    /// A lease came back short: nothing is pending until something sets the hint again.
    func clear() { flag.store(false, ordering: .releasing) }
    /// Whether leasing is worth a transaction.
    var mayHaveWork: Bool { flag.load(ordering: .acquiring) }
}
