import DequeModule

/// The logic of ``BoundedChannel``, as a plain value: no tasks, no locks, no clocks.
///
/// Every transition is a mutating method that returns what the caller must do next (resume these waiters with
/// these values, suspend, report the channel closed). The caller (``ChannelStorage``) runs each method under its
/// lock and carries out the action after the lock is released. The waiters are generic tokens (continuations in the
/// channel, plain values in the tests), so every transition can be tested without a task or a timing.
///
/// Rules:
/// - The queue is bounded by `capacity` elements and by `byteLimit` bytes (the sizes senders declare). An element fits
///   when the queue is empty (so one element larger than `byteLimit` never deadlocks the pipeline) or when one more
///   element and its bytes stay within both bounds.
/// - Waiting senders are served first come, first served: a new sender queues behind them even if its element would
///   fit, and room wakes senders from the head while the head fits, stopping at the first that does not. A small
///   element never overtakes a large one, so a large volume cannot starve behind a stream of small ones. A woken
///   sender's element is moved into the queue by the same transition that frees the room, so it cannot be overtaken
///   between its wake-up and its retry (there is no retry).
/// - A waiter announces itself with an id (`send` or `receive` answers `.suspend(id)`) before it stores its token
///   (`sendSuspended` / `receiveSuspended`). A cancellation that arrives in between is remembered and answered when
///   the token arrives; a cancellation for an id no longer known (already resumed) does nothing.
struct ChannelStateMachine<Element, SendWaiter, ReceiveWaiter> {
    /// Names one suspended `send` or `receive` across its announcement, suspension and cancellation.
    typealias WaiterID = UInt64

    struct Queued {
        var element: Element
        var bytes: Int
    }

    /// The elements in order, with the sum of their declared bytes.
    struct Buffer {
        var items: Deque<Queued> = []
        var bytes = 0
    }

    struct SuspendedSender {
        let id: WaiterID
        let element: Element
        let bytes: Int
        let waiter: SendWaiter
    }

    struct SuspendedReceiver {
        let id: WaiterID
        let waiter: ReceiveWaiter
    }

    /// Every state the channel can be in. Senders and receivers never wait at the same time: receivers wait only on
    /// an empty queue, senders only on a non-empty one.
    enum State {
        /// Open, and nobody waits; the queue may be empty or partly full.
        case idle(Buffer)
        /// Open; the queue is not empty and the first waiting sender's element does not fit.
        case sendersWaiting(Buffer, Deque<SuspendedSender>)
        /// Open; the queue is empty and these receivers wait, oldest first.
        case receiversWaiting(Deque<SuspendedReceiver>)
        /// Finished, with elements left to hand out (never empty). Nobody waits: senders were answered false and
        /// receivers take an element at once.
        case draining(Buffer)
        /// Finished and empty: every `send` fails and every `receive` ends.
        case closed
        /// Only inside a transition, so that the payload being changed is referenced once and changed in place
        /// (a `Deque` still referenced by `state` would be copied on its first change).
        case transitioning
    }

    /// What the queue has held at its fullest since creation, for tests and diagnostics.
    struct Peaks: Equatable, Sendable {
        /// The most elements queued at once.
        var count = 0
        /// The most bytes queued at once.
        var bytes = 0
        /// The most bytes queued at once while more than one element was queued: never above `byteLimit`.
        var bytesWithSeveral = 0
    }

    /// The most elements queued at once (at least 1).
    let capacity: Int
    /// The most bytes queued at once (at least 1), unless one element alone is larger.
    let byteLimit: Int
    private(set) var state: State = .idle(Buffer())
    private(set) var peaks = Peaks()
    /// Ids answered `.suspend` whose token has not arrived yet, each with whether it was cancelled meanwhile.
    private var announced: [WaiterID: Bool] = [:]
    private var nextID: WaiterID = 0

    init(capacity: Int, byteLimit: Int) {
        self.capacity = max(1, capacity)
        self.byteLimit = max(1, byteLimit)
    }

    // MARK: Sending

    enum SendAction {
        /// A receiver was waiting: resume it with this element. The send succeeded and nothing was queued.
        case resumeReceiver(ReceiveWaiter, Element)
        /// The element was queued; the send succeeded.
        case enqueued
        /// The channel is finished: the send failed and the element stays the caller's.
        case closed
        /// No room (or senders wait already): suspend, then call ``sendSuspended(id:element:bytes:waiter:)``.
        case suspend(WaiterID)
    }

    /// A send that does not wait yet: hands the element to a waiting receiver, queues it, or announces a suspension.
    mutating func send(_ element: Element, bytes: Int) -> SendAction {
        switch offer(element, bytes: max(0, bytes)) {
        case .handedOff(let receiver): return .resumeReceiver(receiver, element)
        case .enqueued: return .enqueued
        case .closed: return .closed
        case .full: return .suspend(announce())
        }
    }

    enum SendSuspendedAction {
        /// The sender's token is stored; a later transition resumes it.
        case suspended
        /// Resume the sender at once with this result: true when its element was queued meanwhile, false when the
        /// channel was finished or the send cancelled (the element was not queued).
        case resumeSender(Bool)
        /// A receiver arrived meanwhile: resume it with the element and the sender with true.
        case resumeSenderAndReceiver(ReceiveWaiter, Element)
    }

    /// The sender announced as `id` is suspending with `waiter`. The channel may have changed since `send` answered
    /// `.suspend`, so this decides again, and stores the waiter only if the element still cannot go anywhere.
    mutating func sendSuspended(id: WaiterID, element: Element, bytes: Int, waiter: SendWaiter) -> SendSuspendedAction {
        guard let cancelled = announced.removeValue(forKey: id) else {
            preconditionFailure("sendSuspended for id \(id), which send did not announce")
        }
        if cancelled { return .resumeSender(false) }
        let bytes = max(0, bytes)
        switch offer(element, bytes: bytes) {
        case .handedOff(let receiver): return .resumeSenderAndReceiver(receiver, element)
        case .enqueued: return .resumeSender(true)
        case .closed: return .resumeSender(false)
        case .full: break
        }
        let sender = SuspendedSender(id: id, element: element, bytes: bytes, waiter: waiter)
        switch state {
        case .idle(let buffer):
            state = .sendersWaiting(buffer, [sender])
        case .sendersWaiting(let buffer, var senders):
            state = .transitioning
            senders.append(sender)
            state = .sendersWaiting(buffer, senders)
        case .receiversWaiting, .draining, .closed, .transitioning:
            preconditionFailure("offer answered full with a receiver waiting, or finished")
        }
        return .suspended
    }

    enum CancelSendAction {
        /// Nothing to resume: the sender was not suspended yet (it will be answered false when it tries), or it was
        /// resumed already (its answer stands).
        case none
        /// Resume `cancelled` with false. Its leaving may have let the senders behind it fit: resume `admitted`
        /// with true (their elements are queued).
        case resumeSenders(cancelled: SendWaiter, admitted: [SendWaiter])
    }

    /// The task of the sender `id` was cancelled.
    mutating func cancelSend(_ id: WaiterID) -> CancelSendAction {
        if announced[id] != nil {
            announced[id] = true
            return .none
        }
        guard case .sendersWaiting(var buffer, var senders) = state,
              let index = senders.firstIndex(where: { $0.id == id })
        else { return .none }
        state = .transitioning
        let cancelled = senders.remove(at: index)
        let admitted = admitSenders(from: &senders, into: &buffer)
        state = senders.isEmpty ? .idle(buffer) : .sendersWaiting(buffer, senders)
        return .resumeSenders(cancelled: cancelled.waiter, admitted: admitted)
    }

    // MARK: Receiving

    enum ReceiveAction {
        /// Return this element, and resume `admittedSenders` with true: the room it left let their elements in.
        case element(Element, admittedSenders: [SendWaiter])
        /// The channel is finished and drained: return nil.
        case closed
        /// Nothing queued: suspend, then call ``receiveSuspended(id:waiter:)``.
        case suspend(WaiterID)
    }

    /// A receive that does not wait yet: takes the oldest element, reports the end, or announces a suspension.
    mutating func receive() -> ReceiveAction {
        switch take() {
        case .element(let element, let admitted): return .element(element, admittedSenders: admitted)
        case .closed: return .closed
        case .empty: return .suspend(announce())
        }
    }

    enum ReceiveSuspendedAction {
        /// The receiver's token is stored; a later transition resumes it.
        case suspended
        /// Resume the receiver at once with this value (nil: finished and drained, or cancelled), and
        /// `admittedSenders` with true.
        case resumeReceiver(Element?, admittedSenders: [SendWaiter])
    }

    /// The receiver announced as `id` is suspending with `waiter`; decides again, as `sendSuspended` does.
    mutating func receiveSuspended(id: WaiterID, waiter: ReceiveWaiter) -> ReceiveSuspendedAction {
        guard let cancelled = announced.removeValue(forKey: id) else {
            preconditionFailure("receiveSuspended for id \(id), which receive did not announce")
        }
        if cancelled { return .resumeReceiver(nil, admittedSenders: []) }
        switch take() {
        case .element(let element, let admitted): return .resumeReceiver(element, admittedSenders: admitted)
        case .closed: return .resumeReceiver(nil, admittedSenders: [])
        case .empty: break
        }
        let receiver = SuspendedReceiver(id: id, waiter: waiter)
        switch state {
        case .idle:
            state = .receiversWaiting([receiver])
        case .receiversWaiting(var receivers):
            state = .transitioning
            receivers.append(receiver)
            state = .receiversWaiting(receivers)
        case .sendersWaiting, .draining, .closed, .transitioning:
            preconditionFailure("take answered empty with senders waiting, or finished")
        }
        return .suspended
    }

    enum CancelReceiveAction {
        /// Nothing to resume: not suspended yet (it will be answered nil when it tries), or resumed already (with an
        /// element it keeps, or with nil).
        case none
        /// Resume this receiver with nil.
        case resumeReceiver(ReceiveWaiter)
    }

    /// The task of the receiver `id` was cancelled.
    mutating func cancelReceive(_ id: WaiterID) -> CancelReceiveAction {
        if announced[id] != nil {
            announced[id] = true
            return .none
        }
        guard case .receiversWaiting(var receivers) = state,
              let index = receivers.firstIndex(where: { $0.id == id })
        else { return .none }
        state = .transitioning
        let cancelled = receivers.remove(at: index)
        state = receivers.isEmpty ? .idle(Buffer()) : .receiversWaiting(receivers)
        return .resumeReceiver(cancelled.waiter)
    }

    // MARK: Finishing

    enum FinishAction {
        /// Nobody waited, or the channel was finished already.
        case none
        /// Resume these senders with false: their elements were not queued and stay theirs.
        case resumeSenders([SendWaiter])
        /// Resume these receivers with nil: the queue was empty and nothing more will come.
        case resumeReceivers([ReceiveWaiter])
    }

    /// No more elements will be accepted; what is queued can still be received. Idempotent.
    mutating func finish() -> FinishAction {
        switch state {
        case .idle(let buffer):
            state = buffer.items.isEmpty ? .closed : .draining(buffer)
            return .none
        case .sendersWaiting(let buffer, let senders):
            state = .draining(buffer)
            return .resumeSenders(senders.map(\.waiter))
        case .receiversWaiting(let receivers):
            state = .closed
            return .resumeReceivers(receivers.map(\.waiter))
        case .draining, .closed:
            return .none
        case .transitioning:
            preconditionFailure("finish during a transition")
        }
    }

    // MARK: Reading

    /// The bytes queued now, by the sizes the senders declared.
    var queuedBytes: Int {
        switch state {
        case .idle(let buffer), .sendersWaiting(let buffer, _), .draining(let buffer): buffer.bytes
        case .receiversWaiting, .closed, .transitioning: 0
        }
    }

    /// The elements queued now.
    var queuedCount: Int {
        switch state {
        case .idle(let buffer), .sendersWaiting(let buffer, _), .draining(let buffer): buffer.items.count
        case .receiversWaiting, .closed, .transitioning: 0
        }
    }

    /// How many senders are suspended (their tokens stored).
    var waitingSenders: Int {
        if case .sendersWaiting(_, let senders) = state { senders.count } else { 0 }
    }

    /// How many receivers are suspended (their tokens stored).
    var waitingReceivers: Int {
        if case .receiversWaiting(let receivers) = state { receivers.count } else { 0 }
    }

    /// Whether ``finish()`` was called.
    var isFinished: Bool {
        switch state {
        case .draining, .closed: true
        case .idle, .sendersWaiting, .receiversWaiting, .transitioning: false
        }
    }

    // MARK: Steps shared by the transitions

    private enum Offer {
        case handedOff(ReceiveWaiter)
        case enqueued
        case closed
        case full
    }

    /// Places an element without waiting, if it can: to the first waiting receiver, else into the queue when it
    /// fits and no sender waits ahead of it.
    private mutating func offer(_ element: Element, bytes: Int) -> Offer {
        switch state {
        case .idle(var buffer):
            guard fits(bytes, in: buffer) else { return .full }
            state = .transitioning
            append(element, bytes: bytes, to: &buffer)
            state = .idle(buffer)
            return .enqueued
        case .sendersWaiting:
            return .full
        case .receiversWaiting(var receivers):
            state = .transitioning
            let receiver = receivers.removeFirst()
            state = receivers.isEmpty ? .idle(Buffer()) : .receiversWaiting(receivers)
            return .handedOff(receiver.waiter)
        case .draining, .closed:
            return .closed
        case .transitioning:
            preconditionFailure("offer during a transition")
        }
    }

    private enum Take {
        case element(Element, [SendWaiter])
        case closed
        case empty
    }

    /// Takes the oldest element, if any, and lets in the waiting senders that now fit.
    private mutating func take() -> Take {
        switch state {
        case .idle(var buffer):
            guard !buffer.items.isEmpty else { return .empty }
            state = .transitioning
            let element = removeFirst(from: &buffer)
            state = .idle(buffer)
            return .element(element, [])
        case .sendersWaiting(var buffer, var senders):
            state = .transitioning
            let element = removeFirst(from: &buffer)
            let admitted = admitSenders(from: &senders, into: &buffer)
            state = senders.isEmpty ? .idle(buffer) : .sendersWaiting(buffer, senders)
            return .element(element, admitted)
        case .receiversWaiting:
            return .empty
        case .draining(var buffer):
            state = .transitioning
            let element = removeFirst(from: &buffer)
            state = buffer.items.isEmpty ? .closed : .draining(buffer)
            return .element(element, [])
        case .closed:
            return .closed
        case .transitioning:
            preconditionFailure("take during a transition")
        }
    }

    /// Moves waiting senders' elements into the queue from the head while the head fits; returns their waiters.
    private mutating func admitSenders(from senders: inout Deque<SuspendedSender>, into buffer: inout Buffer)
        -> [SendWaiter]
    {
        var admitted: [SendWaiter] = []
        while let head = senders.first, fits(head.bytes, in: buffer) {
            senders.removeFirst()
            append(head.element, bytes: head.bytes, to: &buffer)
            admitted.append(head.waiter)
        }
        return admitted
    }

    /// Whether an element of `bytes` may join `buffer`. Written as a subtraction so that no sum overflows: both
    /// `byteLimit` and `buffer.bytes` are in 0...Int.max (an oversized single element makes the difference negative).
    private func fits(_ bytes: Int, in buffer: Buffer) -> Bool {
        buffer.items.isEmpty || (buffer.items.count < capacity && bytes <= byteLimit - buffer.bytes)
    }

    private mutating func append(_ element: Element, bytes: Int, to buffer: inout Buffer) {
        buffer.items.append(Queued(element: element, bytes: bytes))
        buffer.bytes += bytes
        peaks.count = max(peaks.count, buffer.items.count)
        peaks.bytes = max(peaks.bytes, buffer.bytes)
        if buffer.items.count > 1 { peaks.bytesWithSeveral = max(peaks.bytesWithSeveral, buffer.bytes) }
        assert(buffer.items.count <= capacity && (buffer.items.count == 1 || buffer.bytes <= byteLimit))
    }

    private func removeFirst(from buffer: inout Buffer) -> Element {
        let first = buffer.items.removeFirst()
        buffer.bytes -= first.bytes
        return first.element
    }

    private mutating func announce() -> WaiterID {
        let id = nextID
        nextID &+= 1
        announced[id] = false
        return id
    }
}

extension ChannelStateMachine: Sendable where Element: Sendable, SendWaiter: Sendable, ReceiveWaiter: Sendable {}
extension ChannelStateMachine.Queued: Sendable where Element: Sendable {}
extension ChannelStateMachine.Buffer: Sendable where Element: Sendable {}
extension ChannelStateMachine.SuspendedSender: Sendable where Element: Sendable, SendWaiter: Sendable {}
extension ChannelStateMachine.SuspendedReceiver: Sendable where ReceiveWaiter: Sendable {}
extension ChannelStateMachine.State: Sendable
    where Element: Sendable, SendWaiter: Sendable, ReceiveWaiter: Sendable {}
extension ChannelStateMachine.SendAction: Sendable
    where Element: Sendable, SendWaiter: Sendable, ReceiveWaiter: Sendable {}
extension ChannelStateMachine.SendSuspendedAction: Sendable where Element: Sendable, ReceiveWaiter: Sendable {}
extension ChannelStateMachine.CancelSendAction: Sendable where SendWaiter: Sendable {}
extension ChannelStateMachine.ReceiveAction: Sendable where Element: Sendable, SendWaiter: Sendable {}
extension ChannelStateMachine.ReceiveSuspendedAction: Sendable where Element: Sendable, SendWaiter: Sendable {}
extension ChannelStateMachine.CancelReceiveAction: Sendable where ReceiveWaiter: Sendable {}
extension ChannelStateMachine.FinishAction: Sendable where SendWaiter: Sendable, ReceiveWaiter: Sendable {}

extension ChannelStateMachine.SendAction: Equatable
    where Element: Equatable, SendWaiter: Equatable, ReceiveWaiter: Equatable {}
extension ChannelStateMachine.SendSuspendedAction: Equatable where Element: Equatable, ReceiveWaiter: Equatable {}
extension ChannelStateMachine.CancelSendAction: Equatable where SendWaiter: Equatable {}
extension ChannelStateMachine.ReceiveAction: Equatable where Element: Equatable, SendWaiter: Equatable {}
extension ChannelStateMachine.ReceiveSuspendedAction: Equatable where Element: Equatable, SendWaiter: Equatable {}
extension ChannelStateMachine.CancelReceiveAction: Equatable where ReceiveWaiter: Equatable {}
extension ChannelStateMachine.FinishAction: Equatable where SendWaiter: Equatable, ReceiveWaiter: Equatable {}
