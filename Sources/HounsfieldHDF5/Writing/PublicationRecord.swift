import Synchronization

/// What a shard writer has published, shared with the ``PendingPublication``s it hands out: those complete on
/// other threads while the writer fills its next shard, so the record is behind a lock.
///
/// Keys are taken when their shard is closed for publication, before it is durable: a second volume with the same
/// key is refused while the first one's shard is still being made durable. Manifest lines are added once their
/// shard is durable and listed.
final class PublicationRecord: Sendable {
    private struct State {
        var keys: Set<String> = []
        var shardOfKey: [String: String] = [:]
        var entries: [ManifestEntry] = []
        var unannounced: [ManifestEntry] = []
    }

    private let state = Mutex(State())
    /// Held while a manifest append runs: a publication completing on another thread and one the writer makes at a
    /// rotation append to the same file.
    let appending = Mutex(())

    /// Keys published or being published.
    var keys: Set<String> { state.withLock { $0.keys } }
    /// Manifest lines published by this writer, in the order their shards became durable.
    var entries: [ManifestEntry] { state.withLock { $0.entries } }

    func contains(_ key: String) -> Bool { state.withLock { $0.keys.contains(key) } }

    /// The shard that holds (or will hold) `key`, when this writer wrote it.
    func shard(of key: String) -> String? { state.withLock { $0.shardOfKey[key] } }

    /// Keys the folder held before this writer started.
    func add(existingKeys: some Sequence<String>) { state.withLock { $0.keys.formUnion(existingKeys) } }

    /// A shard was closed for publication: its keys are taken.
    func reserve(_ keys: [String], shard: String) {
        state.withLock {
            for key in keys {
                $0.keys.insert(key)
                $0.shardOfKey[key] = shard
            }
        }
    }

    /// A shard is durable and listed. `announce`: whether ``takeUnannounced()`` should hand its lines out (a
    /// publication made by the writer's own task), or whoever completed it reports it (a background one).
    func commit(_ entries: [ManifestEntry], announce: Bool) {
        state.withLock {
            $0.entries += entries
            if announce { $0.unannounced += entries }
        }
    }

    /// The lines published by the writer's own task since the last call, in order.
    func takeUnannounced() -> [ManifestEntry] {
        state.withLock { state in
            defer { state.unannounced.removeAll() }
            return state.unannounced
        }
    }
}
