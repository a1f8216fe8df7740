import Synchronization

/// The sessions open right now, so the coordinator can drain them all at the end and count them for its metrics.
final class SessionRegistry: Sendable {
    private let sessions = Mutex<[ObjectIdentifier: WorkerSession]>([:])

    private let names = Mutex<Set<String>>([])

    /// Claims a worker name for a new session; false when a live session holds it (two live workers with one name
    /// would write shards under the same names).
    func claim(_ name: String) -> Bool { names.withLock { $0.insert(name).inserted } }

    /// Gives a name back when its session ends.
    func release(_ name: String) { _ = names.withLock { $0.remove(name) } }

    func add(_ session: WorkerSession) { sessions.withLock { $0[ObjectIdentifier(session)] = session } }
    func remove(_ session: WorkerSession) { sessions.withLock { $0[ObjectIdentifier(session)] = nil } }
    var count: Int { sessions.withLock { $0.count } }
    var all: [WorkerSession] { sessions.withLock { Array($0.values) } }

    /// Sends Drain to every open session.
    func drainAll(reason: String) async {
        for session in all { await session.drain(reason: reason) }
    }
}
