import Synchronization

/// The shared part of a ``BoundedChannel``: its ``ChannelStateMachine`` behind a `Mutex`, and the continuations of
/// the tasks suspended in it.
///
/// Each operation runs one transition under the lock and carries out the action it returns (resuming continuations)
/// after the lock is released, so a resumed task never contends for the lock its resumer still holds. The one
/// exception is resuming the current task's own continuation inside `withCheckedContinuation`'s body, which the body
/// does after its transition returned, outside the lock too.
///
/// Sendable without `@unchecked`: its only stored property is a `Mutex`, which is `Sendable`.
final class ChannelStorage<Element: Sendable>: Sendable {
    typealias SendContinuation = CheckedContinuation<Bool, Never>
    typealias ReceiveContinuation = CheckedContinuation<Element?, Never>
    typealias Machine = ChannelStateMachine<Element, SendContinuation, ReceiveContinuation>

    private let machine: Mutex<Machine>

    init(capacity: Int, byteLimit: Int) {
        machine = Mutex(Machine(capacity: capacity, byteLimit: byteLimit))
    }

    // MARK: Sending

    func send(_ element: Element, bytes: Int) async -> Bool {
        // A task cancelled before it sends does not send: the answer does not depend on whether there is room.
        if Task.isCancelled { return false }
        let id: Machine.WaiterID
        switch machine.withLock({ $0.send(element, bytes: bytes) }) {
        case .enqueued: return true
        case .closed: return false
        case .resumeReceiver(let receiver, let element):
            receiver.resume(returning: element)
            return true
        case .suspend(let announced): id = announced
        }
        // Cancellation may come at any point from here on, even before the continuation is stored: the state
        // machine remembers a cancellation of an announced id and answers false when the continuation arrives.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: SendContinuation) in
                let action = machine.withLock {
                    $0.sendSuspended(id: id, element: element, bytes: bytes, waiter: continuation)
                }
                switch action {
                case .suspended:
                    break
                case .resumeSender(let sent):
                    continuation.resume(returning: sent)
                case .resumeSenderAndReceiver(let receiver, let element):
                    receiver.resume(returning: element)
                    continuation.resume(returning: true)
                }
            }
        } onCancel: {
            switch machine.withLock({ $0.cancelSend(id) }) {
            case .none:
                break
            case .resumeSenders(let cancelled, let admitted):
                cancelled.resume(returning: false)
                Self.resume(admitted)
            }
        }
    }

    // MARK: Receiving

    func receive() async -> Element? {
        // A task cancelled before it receives takes nothing: queued elements stay for the other receivers.
        if Task.isCancelled { return nil }
        let id: Machine.WaiterID
        switch machine.withLock({ $0.receive() }) {
        case .element(let element, let admitted):
            Self.resume(admitted)
            return element
        case .closed:
            return nil
        case .suspend(let announced):
            id = announced
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: ReceiveContinuation) in
                switch machine.withLock({ $0.receiveSuspended(id: id, waiter: continuation) }) {
                case .suspended:
                    break
                case .resumeReceiver(let element, let admitted):
                    Self.resume(admitted)
                    continuation.resume(returning: element)
                }
            }
        } onCancel: {
            // If a sender took this receiver off the waiting list first, the element is on its way to it and the
            // transition answers `.none`: the receiver returns that element, cancelled or not.
            switch machine.withLock({ $0.cancelReceive(id) }) {
            case .none:
                break
            case .resumeReceiver(let receiver):
                receiver.resume(returning: nil)
            }
        }
    }

    // MARK: Finishing and reading

    func finish() {
        switch machine.withLock({ $0.finish() }) {
        case .none:
            break
        case .resumeSenders(let senders):
            for sender in senders { sender.resume(returning: false) }
        case .resumeReceivers(let receivers):
            for receiver in receivers { receiver.resume(returning: nil) }
        }
    }

    var queuedBytes: Int { machine.withLock { $0.queuedBytes } }

    /// A consistent reading of the state machine's counters, taken under the lock.
    var snapshot: Snapshot {
        machine.withLock {
            Snapshot(queuedCount: $0.queuedCount, queuedBytes: $0.queuedBytes, waitingSenders: $0.waitingSenders,
                     waitingReceivers: $0.waitingReceivers, isFinished: $0.isFinished, peaks: $0.peaks)
        }
    }

    struct Snapshot: Sendable, Equatable {
        var queuedCount: Int
        var queuedBytes: Int
        var waitingSenders: Int
        var waitingReceivers: Int
        var isFinished: Bool
        var peaks: Machine.Peaks
    }

    /// Senders whose elements were queued by the transition that freed their room.
    private static func resume(_ admitted: [SendContinuation]) {
        for sender in admitted { sender.resume(returning: true) }
    }
}
