import Synchronization

/// The face of ``AdmissionStateMachine``: a lock around it, and the continuations of requests queued for a slot,
/// resumed outside the lock. At most `concurrentStudies` studies are processed at once and `queueLength` more are
/// admitted; beyond that ``admit()`` refuses, and the request is answered 503 before its body is read.
final class AdmissionGate: Sendable {
    private struct State {
        var machine: AdmissionStateMachine
        var continuations: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    /// A gate processing `processing` requests at once, with `waiting` more admitted.
    init(processing: Int, waiting: Int) {
        state = Mutex(State(machine: AdmissionStateMachine(processingLimit: processing, waitingLimit: waiting)))
    }

    /// Admits a request, or refuses it (false) when the gate is full. An admitted request must end with
    /// ``process(_:)`` or ``leave()``.
    func admit() -> Bool { state.withLock { $0.machine.admit() } }

    /// An admitted request that will not process leaves.
    func leave() { state.withLock { $0.machine.leaveWaiting() } }

    /// Waits for a processing slot (first come, first served), runs `work`, and frees the slot. Throws
    /// `CancellationError` when the task is cancelled while still queued (the request then no longer counts).
    func process<Value>(_ work: () async throws -> Value) async throws -> Value {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let start = state.withLock { state -> SlotStart in
                    // Cancelled before it could queue: the cancellation handler found nothing to remove.
                    if Task.isCancelled {
                        state.machine.leaveWaiting()
                        return .cancelled
                    }
                    switch state.machine.requestSlot(id: id) {
                    case .proceed: return .proceed
                    case .suspend:
                        state.continuations[id] = continuation
                        return .suspended
                    }
                }
                switch start {
                case .proceed: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .suspended: break
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard state.machine.cancel(id: id) else { return nil }
                return state.continuations.removeValue(forKey: id)
            }
            continuation?.resume(throwing: CancellationError())
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let id = state.machine.finishProcessing() else { return nil }
                return state.continuations.removeValue(forKey: id)
            }
            next?.resume()
        }
        return try await work()
    }

    /// How a request asking for a slot goes on.
    private enum SlotStart { case proceed, suspended, cancelled }

    /// Requests processing now, and admitted ones waiting (uploading or queued): the queue depth gauge.
    var depth: (processing: Int, waiting: Int) {
        state.withLock { ($0.machine.processing, $0.machine.waiting) }
    }
}
