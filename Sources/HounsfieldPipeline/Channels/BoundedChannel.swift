/// A multi-producer, multi-consumer async channel bounded by element count and by bytes.
///
/// Whole volumes travel through it, so the byte bound is what keeps memory flat: `send` suspends while the channel
/// is full, which slows the stage upstream instead of growing a queue. One element larger than the byte bound is
/// still admitted when the channel is empty, so a big volume cannot deadlock the pipeline.
///
/// Waiting senders are served in the order they came, and room lets in only those whose elements now fit (from the
/// first, stopping at the first that does not), so a large volume is never starved by smaller ones behind it. Both
/// `send` and `receive` react to task cancellation, each waiter on its own: cancelling one leaves the others waiting.
/// An element is never lost nor delivered twice: it is either returned by exactly one `receive`, or its `send`
/// returns false (it stays the sender's), or it is still queued.
///
/// The channel is also an `AsyncSequence`: `for await element in channel` receives until the channel is finished
/// and drained, or the iterating task is cancelled.
///
/// Built in three parts, as swift-async-algorithms builds its channels: ``ChannelStateMachine`` (the logic, a plain
/// value), ``ChannelStorage`` (the lock and the continuations) and this type (the public face).
public final class BoundedChannel<Element: Sendable>: Sendable {
    /// The most elements queued at once (at least 1).
    public let capacity: Int
    /// The most bytes queued at once (at least 1), by the sizes senders declare; one larger element still fits an empty
    /// channel.
    public let byteLimit: Int
    let storage: ChannelStorage<Element>

    /// A channel for up to `capacity` elements and `byteLimit` bytes (values below 1 count as 1).
    public init(capacity: Int, byteLimit: Int = .max) {
        self.capacity = Swift.max(1, capacity)
        self.byteLimit = Swift.max(1, byteLimit)
        storage = ChannelStorage(capacity: self.capacity, byteLimit: self.byteLimit)
    }

    /// Sends an element of `bytes` declared size (negative counts as 0). Returns true once the element is queued or
    /// handed to a receiver, false when it was not sent: the channel is finished, or the task was cancelled.
    ///
    /// Suspends while the element does not fit (the queue is full by count or by bytes, or other senders wait ahead
    /// of it): that suspension is the back pressure that holds a fast stage to the pace of a slow one. It returns
    /// when receivers make room for it (true), when the channel is finished (false), or when the task is cancelled
    /// (false).
    ///
    /// Cancellation: a task cancelled before or while it waits does not send; the element is dropped by the channel
    /// and stays the caller's, who learns it from the false. The cancelled sender leaves the line without disturbing
    /// the other senders (those behind it may now fit and go in). Cancellation exists so that a stage being torn
    /// down is not stuck behind a full channel whose consumer is gone. A cancellation that arrives just as room let
    /// the element in changes nothing: it was sent, and `send` returns true.
    @discardableResult
    public func send(_ element: Element, bytes: Int) async -> Bool {
        await storage.send(element, bytes: bytes)
    }

    /// The next element, oldest first; nil when the channel is finished and drained, or the task is cancelled.
    ///
    /// Suspends while the channel is empty and not finished, until a sender hands it an element, ``finish()`` is
    /// called (nil), or the task is cancelled (nil).
    ///
    /// Cancellation: a task cancelled before or while it waits takes nothing, and queued elements stay for the other
    /// receivers; the other waiting receivers keep waiting. If a sender handed this receiver an element at the moment
    /// it was cancelled, the receiver still returns that element, so nothing is lost between the two.
    public func receive() async -> Element? {
        await storage.receive()
    }

    /// No more elements will be sent: receivers drain what is queued, then get nil; blocked senders return false, and
    /// later sends return false at once. Calling it again does nothing. Never suspends.
    public func finish() {
        storage.finish()
    }

    /// Bytes currently queued, by the sizes senders declared.
    public var queuedBytes: Int { storage.queuedBytes }
}

extension BoundedChannel: AsyncSequence {
    /// Receiving never throws: a finished channel ends the sequence.
    public typealias Failure = Never

    /// Receives from the channel: each `next()` is a ``BoundedChannel/receive()``, so it suspends and reacts to
    /// cancellation as `receive` does. Several iterators of one channel share its elements (each element goes to
    /// one of them).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: BoundedChannel

        /// The next element, or nil once the channel is finished and drained.
        public mutating func next() async -> Element? {
            await channel.receive()
        }

        /// The next element, or nil once the channel is finished and drained (the caller's isolation is kept).
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Element? {
            await channel.receive()
        }
    }

    /// An iterator that receives from this channel.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(channel: self)
    }
}
