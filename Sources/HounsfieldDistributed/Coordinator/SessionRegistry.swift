import Synchronization

/// The sessions open right now, so the coordinator can drain them all at the end and count them for its metrics.
final class SessionRegistry: Sendable {
    private let sessions = Mutex<[ObjectIdentifier: WorkerSession]>([:])

    func add(_ session: WorkerSession) { sessions.withLock { $0[ObjectIdentifier(session)] = session } }
    func remove(_ session: WorkerSession) { sessions.withLock { $0[ObjectIdentifier(session)] = nil } }
    var count: Int { sessions.withLock { $0.count } }
    var all: [WorkerSession] { sessions.withLock { Array($0.values) } }

    /// Sends Drain to every open session.
    func drainAll(reason: String) async {
        for session in all { await session.drain(reason: reason) }
    }
}
