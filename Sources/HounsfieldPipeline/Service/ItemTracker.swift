/// Follows work items through a ``PipelineService``'s events until each is complete: every series has its outcome,
/// and every volume written is in a published shard. A source acknowledges an item (a worker reports its unit, the
/// daemon marks a spooled series processed, a watched folder moves to `done/`) only when it is complete, so what it
/// acknowledges is durable.
///
/// Events of items that were not ``track(_:)``ed are ignored. Shards are published independently of items: a shard
/// may be published before the outcome of a volume it holds is filed, and that order is handled.
public struct ItemTracker: Sendable {
    /// What is known of one item.
    public struct Item: Sendable {
        /// The item's identifier.
        public let id: String
        /// Its discovery, once reported.
        public internal(set) var discovery: PipelineEvent.Discovery?
        /// Every series outcome, in the order reported.
        public internal(set) var outcomes: [PipelineEvent.SeriesOutcome] = []
        /// The shards its written volumes are in.
        public internal(set) var shards: Set<String> = []
        var unpublished: Set<String> = []
        var finished = false

        /// Whether every series has its outcome and every written volume is published.
        public var isComplete: Bool { finished && unpublished.isEmpty }

        /// Whether some series was cut short by something other than the series itself: `cancelled` by a
        /// shutdown, `not_processed` after the output failed, or failed at the write stage (a full disk, a failed
        /// fsync). The item is to be done again, not acknowledged.
        public var wasInterrupted: Bool {
            outcomes.contains { outcome in
                let report = outcome.report
                return report.status == .cancelled || report.status == .notProcessed
                    || (report.status == .failed && report.stage == "write")
            }
        }
    }

    private var items: [String: Item] = [:]
    /// Keys made durable whose outcome has not arrived yet.
    private var publishedEarly: [String: String] = [:]

    /// Tracks nothing yet.
    public init() {}

    /// Starts following the item `id` (before it is sent to the service).
    public mutating func track(_ id: String) { items[id] = Item(id: id) }

    /// Stops following `id`, returning what was known.
    @discardableResult
    public mutating func forget(_ id: String) -> Item? { items.removeValue(forKey: id) }

    /// The items followed.
    public var ids: some Collection<String> { items.keys }

    /// Whether `id` is followed.
    public func isTracking(_ id: String) -> Bool { items[id] != nil }

    /// Takes in one event.
    public mutating func record(_ event: PipelineEvent) {
        switch event {
        case .discovered(let discovery):
            items[discovery.item]?.discovery = discovery
        case .outcome(let outcome):
            guard items[outcome.item] != nil else { return }
            items[outcome.item]!.outcomes.append(outcome)
            if outcome.report.status == .written, let shard = outcome.shard {
                if publishedEarly.removeValue(forKey: outcome.report.key) == nil {
                    items[outcome.item]!.unpublished.insert(outcome.report.key)
                }
                items[outcome.item]!.shards.insert(shard)
            }
        case .published(let publication):
            for key in publication.keys {
                guard let id = items.first(where: { $0.value.unpublished.contains(key) })?.key else {
                    publishedEarly[key] = publication.shard
                    continue
                }
                items[id]!.unpublished.remove(key)
            }
        case .itemFinished(let id):
            items[id]?.finished = true
        }
    }

    /// Removes and returns the complete items, in identifier order.
    public mutating func takeComplete() -> [Item] {
        let complete = items.values.filter(\.isComplete).sorted { $0.id < $1.id }
        for item in complete { items[item.id] = nil }
        return complete
    }

    /// Removes and returns every item left, complete or not (the source is ending), in identifier order.
    public mutating func takeAll() -> [Item] {
        defer { items = [:] }
        return items.values.sorted { $0.id < $1.id }
    }
}
