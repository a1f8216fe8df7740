import Synchronization

/// The port a server bound, told to whoever waits for it: set once when the server runs, or ended without one.
final class PortAnnouncement: Sendable {
    private struct State {
        var port: Int?
        var ended = false
        var waiters: [Int: CheckedContinuation<Int?, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// The bound port, or nil.
    var port: Int? { state.withLock { $0.port } }

    /// The server bound `port`: every waiter gets it.
    func announce(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The server stopped: waiters still waiting get nil.
    func end() {
        let waiters = state.withLock { state in
            state.ended = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The port once bound; nil when the server ended first or this task is cancelled.
    func wait() async -> Int? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                enum Now { case port(Int?), wait }
                let now = state.withLock { state -> Now in
                    if let port = state.port { return .port(port) }
                    if state.ended || Task.isCancelled { return .port(nil) }
                    state.waiters[id] = continuation
                    return .wait
                }
                if case .port(let port) = now { continuation.resume(returning: port) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}
