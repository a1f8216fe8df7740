import Synchronization

/// A multi-producer, multi-consumer async channel bounded by element count and by bytes.
///
/// Whole volumes travel through it, so the byte bound is what keeps memory flat: `send` suspends while the channel
/// is full, which slows the stage upstream instead of growing a queue. One element larger than the byte bound is
/// still admitted when the channel is empty, so a big volume cannot deadlock the pipeline.
public final class BoundedChannel<Element: Sendable>: Sendable {
    private struct State {
        var items: [(element: Element, bytes: Int)] = []
        var bytes = 0
        var finished = false
        var waitingSenders: [CheckedContinuation<Void, Never>] = []
        var waitingReceivers: [CheckedContinuation<Element?, Never>] = []
    }

    /// The most elements queued at once (at least 1).
    public let capacity: Int
    /// The most bytes queued at once (at least 1), by the sizes senders declare; one larger element still fits an empty
    /// channel.
    public let byteLimit: Int
    private let state = Mutex(State())

    /// A channel for up to `capacity` elements and `byteLimit` bytes (values below 1 count as 1).
    ///
    /// Neither `send` nor `receive` reacts to task cancellation: a cancelled task stays suspended until an element or
    /// room arrives, or until ``finish()``. Whoever cancels the stages finishes their channels.
    public init(capacity: Int, byteLimit: Int = .max) {
        self.capacity = max(1, capacity)
        self.byteLimit = max(1, byteLimit)
    }

    /// Sends an element of `bytes` size, suspending while the channel is full. Returns false (dropping the element)
    /// when the channel was finished.
    @discardableResult
    public func send(_ element: Element, bytes: Int) async -> Bool {
        while true {
            let step: SendStep = state.withLock { state in
                if state.finished { return .closed }
                if !state.waitingReceivers.isEmpty {
                    state.waitingReceivers.removeFirst().resume(returning: element)
                    return .delivered
                }
                let fits = state.items.isEmpty
                    || (state.items.count < capacity && state.bytes + bytes <= byteLimit)
                guard fits else { return .wait }
                state.items.append((element, bytes))
                state.bytes += bytes
                return .enqueued
            }
            switch step {
            case .delivered, .enqueued: return true
            case .closed: return false
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        // Re-check under the lock: space may have appeared before we registered.
                        if state.finished || state.items.isEmpty || (state.items.count < capacity && state.bytes + bytes <= byteLimit) {
                            return true
                        }
                        state.waitingSenders.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// The next element, or nil when the channel is finished and drained.
    public func receive() async -> Element? {
        let step: ReceiveStep = state.withLock { state in
            if let element = Self.dequeue(&state) { return .element(element) }
            return state.finished ? .end : .wait
        }
        switch step {
        case .element(let element): return element
        case .end: return nil
        case .wait:
            return await withCheckedContinuation { continuation in
                let immediate: Element?? = state.withLock { state in
                    if let element = Self.dequeue(&state) { return .some(element) }
                    if state.finished { return .some(nil) }
                    state.waitingReceivers.append(continuation)
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        }
    }

    /// Takes the oldest element, if any. Space appeared: every waiting sender is woken, re-checks, and those that
    /// fit go in.
    private static func dequeue(_ state: inout State) -> Element? {
        guard !state.items.isEmpty else { return nil }
        let (element, bytes) = state.items.removeFirst()
        state.bytes -= bytes
        for sender in state.waitingSenders { sender.resume() }
        state.waitingSenders.removeAll()
        return element
    }

    /// No more elements will be sent: receivers drain what is queued, then get nil; blocked senders return false.
    public func finish() {
        state.withLock { state in
            state.finished = true
            for receiver in state.waitingReceivers { receiver.resume(returning: nil) }
            state.waitingReceivers.removeAll()
            for sender in state.waitingSenders { sender.resume() }
            state.waitingSenders.removeAll()
        }
    }

    private enum SendStep { case delivered, enqueued, closed, wait }
    private enum ReceiveStep { case element(Element), end, wait }

    /// Bytes currently queued.
    public var queuedBytes: Int { state.withLock { $0.bytes } }
}
