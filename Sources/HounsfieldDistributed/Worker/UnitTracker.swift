import HounsfieldPipeline
import HounsfieldProtocol

/// What a worker knows about the units it holds: the leases behind the pipeline's items, and (through an
/// ``ItemTracker``) their outcomes, which of their volumes are durable, and when each is ready to be reported.
///
/// A unit is complete when the pipeline finished it (every series has its outcome) and every volume it wrote is in
/// a published shard: only then may the coordinator reference them.
struct UnitTracker {
    struct Unit {
        let id: UInt64
        let epoch: UInt64
        let path: String
        var revoked = false
        /// The pipeline's record of the item (empty until events arrive).
        var item: ItemTracker.Item?

        var discoveryError: String? { item?.discovery?.error }
        var wasInterrupted: Bool { item?.wasInterrupted ?? false }
        var shards: Set<String> { item?.shards ?? [] }
        /// The outcomes as the protocol carries them.
        var outcomes: [Hounsfield_Distributed_V1_SeriesOutcome] {
            (item?.outcomes ?? []).map { outcome in
                let report = outcome.report
                return .with {
                    $0.key = report.key
                    $0.status = report.status.rawValue
                    $0.shard = outcome.shard ?? ""
                    $0.checksum = outcome.checksum ?? ""
                    $0.stage = report.stage ?? ""
                    $0.file = report.file ?? ""
                    $0.error = report.error ?? report.reason ?? ""
                }
            }
        }
    }

    private var leases: [String: Unit] = [:]
    private var items = ItemTracker()

    /// The pipeline item id for a lease: the epoch is part of it, so the same unit leased again is a new item.
    static func itemID(unit: UInt64, epoch: UInt64) -> String { "unit-\(unit)-e\(epoch)" }

    mutating func assigned(unit: UInt64, epoch: UInt64, path: String) -> String {
        let id = Self.itemID(unit: unit, epoch: epoch)
        leases[id] = Unit(id: unit, epoch: epoch, path: path)
        items.track(id)
        return id
    }

    /// The coordinator took the lease back: whatever the pipeline still does for it is not reported.
    mutating func revoke(unit: UInt64, epoch: UInt64) {
        leases[Self.itemID(unit: unit, epoch: epoch)]?.revoked = true
    }

    /// The leases held, for the heartbeat.
    var held: [(unit: UInt64, epoch: UInt64)] {
        leases.values.filter { !$0.revoked }.map { ($0.id, $0.epoch) }.sorted { $0.unit < $1.unit }
    }

    /// Takes in one pipeline event.
    mutating func record(_ event: PipelineEvent) { items.record(event) }

    /// Removes and returns the units ready to report: finished, with every written volume published.
    mutating func takeReady() -> [Unit] {
        units(of: items.takeComplete())
    }

    /// Removes and returns every unit left (the session is ending): those not ready are handed back.
    mutating func takeAll() -> [Unit] {
        let taken = units(of: items.takeAll())
        leases = [:]
        return taken
    }

    private mutating func units(of taken: [ItemTracker.Item]) -> [Unit] {
        taken.compactMap { item -> Unit? in
            guard var unit = leases.removeValue(forKey: item.id), !unit.revoked else { return nil }
            unit.item = item
            return unit
        }.sorted { $0.id < $1.id }
    }
}
