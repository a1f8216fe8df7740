import HounsfieldPipeline
import HounsfieldProtocol

/// What a worker knows about the units it holds: their outcomes as the pipeline reports them, which of their
/// volumes are durable, and when each is ready to be reported complete.
///
/// A unit is complete when the pipeline finished it (every series has its outcome) and every volume it wrote is in
/// a published shard: only then may the coordinator reference them.
struct UnitTracker {
    struct Unit {
        let id: UInt64
        let epoch: UInt64
        let path: String
        var outcomes: [Hounsfield_Distributed_V1_SeriesOutcome] = []
        var unpublished: Set<String> = []
        var shards: Set<String> = []
        var finished = false
        var revoked = false
        var discoveryError: String?
    }

    private(set) var units: [String: Unit] = [:]
    /// Keys made durable whose outcome has not arrived yet (a shard published before the outcome was filed).
    private var publishedEarly: [String: String] = [:]

    /// The pipeline item id for a lease: the epoch is part of it, so the same unit leased again is a new item.
    static func itemID(unit: UInt64, epoch: UInt64) -> String { "unit-\(unit)-e\(epoch)" }

    mutating func assigned(unit: UInt64, epoch: UInt64, path: String) -> String {
        let id = Self.itemID(unit: unit, epoch: epoch)
        units[id] = Unit(id: unit, epoch: epoch, path: path)
        return id
    }

    /// The coordinator took the lease back: whatever the pipeline still does for it is not reported.
    mutating func revoke(unit: UInt64, epoch: UInt64) {
        units[Self.itemID(unit: unit, epoch: epoch)]?.revoked = true
    }

    /// The leases held, for the heartbeat.
    var held: [(unit: UInt64, epoch: UInt64)] {
        units.values.filter { !$0.revoked }.map { ($0.id, $0.epoch) }.sorted { $0.unit < $1.unit }
    }

    /// Takes in one pipeline event.
    mutating func record(_ event: PipelineEvent) {
        switch event {
        case .discovered(let discovery):
            if let error = discovery.error { units[discovery.item]?.discoveryError = error }
        case .outcome(let outcome):
            guard units[outcome.item] != nil else { return }
            let report = outcome.report
            units[outcome.item]!.outcomes.append(.with {
                $0.key = report.key
                $0.status = report.status.rawValue
                $0.shard = outcome.shard ?? ""
                $0.checksum = outcome.checksum ?? ""
                $0.stage = report.stage ?? ""
                $0.file = report.file ?? ""
                $0.error = report.error ?? report.reason ?? ""
            })
            if report.status == .written, let shard = outcome.shard {
                if publishedEarly.removeValue(forKey: report.key) == nil {
                    units[outcome.item]!.unpublished.insert(report.key)
                }
                units[outcome.item]!.shards.insert(shard)
            }
        case .published(let publication):
            for key in publication.keys {
                guard let id = units.first(where: { $0.value.unpublished.contains(key) })?.key else {
                    publishedEarly[key] = publication.shard
                    continue
                }
                units[id]!.unpublished.remove(key)
            }
        case .itemFinished(let item):
            units[item]?.finished = true
        }
    }

    /// Removes and returns the units ready to report: finished, with every written volume published.
    mutating func takeReady() -> [Unit] {
        let ready = units.filter { $0.value.finished && $0.value.unpublished.isEmpty }
        for id in ready.keys { units[id] = nil }
        return ready.values.filter { !$0.revoked }.sorted { $0.id < $1.id }
    }

    /// Removes and returns every unit left (the session is ending): those not ready are handed back.
    mutating func takeAll() -> [Unit] {
        defer { units = [:] }
        return units.values.filter { !$0.revoked }.sorted { $0.id < $1.id }
    }
}
