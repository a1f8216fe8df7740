@testable import HounsfieldPipeline
import Testing

/// Every transition of the channel's state machine, with strings for waiters: no tasks, no timing.
@Suite("Channel state machine: every transition, without tasks")
struct ChannelStateMachineTests {
    typealias Machine = ChannelStateMachine<Int, String, String>

    /// Sends that must suspend, then suspends them with waiter names: the usual two steps of a blocked sender.
    private func block(_ machine: inout Machine, _ senders: [(name: String, element: Int, bytes: Int)]) {
        for sender in senders {
            guard case .suspend(let id) = machine.send(sender.element, bytes: sender.bytes) else {
                Issue.record("\(sender.name) did not have to wait")
                continue
            }
            #expect(machine.sendSuspended(id: id, element: sender.element, bytes: sender.bytes, waiter: sender.name)
                == .suspended)
        }
    }

    @discardableResult
    private func blockReceiver(_ machine: inout Machine, _ name: String) -> Machine.WaiterID? {
        guard case .suspend(let id) = machine.receive() else {
            Issue.record("\(name) did not have to wait")
            return nil
        }
        #expect(machine.receiveSuspended(id: id, waiter: name) == .suspended)
        return id
    }

    // MARK: send

    @Test("send into an empty channel, and into one with room, queues the element")
    func sendWithRoom() {
        var machine = Machine(capacity: 3, byteLimit: 100)
        #expect(machine.send(1, bytes: 40) == .enqueued)
        #expect(machine.send(2, bytes: 60) == .enqueued)
        #expect(machine.queuedCount == 2 && machine.queuedBytes == 100)
        #expect(machine.waitingSenders == 0 && machine.waitingReceivers == 0)
    }

    @Test("send into a channel full by count suspends, and the sender waits")
    func sendFullByCount() {
        var machine = Machine(capacity: 2, byteLimit: 1000)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        #expect(machine.send(2, bytes: 1) == .enqueued)
        guard case .suspend(let id) = machine.send(3, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.sendSuspended(id: id, element: 3, bytes: 1, waiter: "s") == .suspended)
        #expect(machine.waitingSenders == 1 && machine.queuedCount == 2)
    }

    @Test("send into a channel full by bytes suspends, although the count has room")
    func sendFullByBytes() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(1, bytes: 8) == .enqueued)
        guard case .suspend = machine.send(2, bytes: 3) else { Issue.record("expected suspend"); return }
        #expect(machine.queuedBytes == 8)
    }

    @Test("an element larger than the byte bound is admitted into an empty channel, alone")
    func oversizedIntoEmpty() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(1, bytes: 50) == .enqueued)
        #expect(machine.queuedBytes == 50)
        // Nothing joins it, not even an element of no bytes, until it is received.
        guard case .suspend = machine.send(2, bytes: 0) else { Issue.record("expected suspend"); return }
        #expect(machine.peaks == .init(count: 1, bytes: 50, bytesWithSeveral: 0))
    }

    @Test("an oversized element waits for a non-empty channel to drain, then goes in alone")
    func oversizedIntoNonEmpty() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(1, bytes: 2) == .enqueued)
        #expect(machine.send(2, bytes: 2) == .enqueued)
        block(&machine, [("big", 3, 50)])
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.receive() == .element(2, admittedSenders: ["big"]))
        #expect(machine.queuedCount == 1 && machine.queuedBytes == 50 && machine.waitingSenders == 0)
        #expect(machine.receive() == .element(3, admittedSenders: []))
    }

    @Test("send while a receiver waits hands the element straight to it, oldest receiver first")
    func sendHandsOff() {
        var machine = Machine(capacity: 1, byteLimit: 1)
        blockReceiver(&machine, "r1")
        blockReceiver(&machine, "r2")
        #expect(machine.waitingReceivers == 2)
        // Bytes do not matter for a hand-off: nothing is queued.
        #expect(machine.send(7, bytes: 1000) == .resumeReceiver("r1", 7))
        #expect(machine.queuedCount == 0 && machine.waitingReceivers == 1)
        #expect(machine.send(8, bytes: 1) == .resumeReceiver("r2", 8))
        #expect(machine.waitingReceivers == 0)
        #expect(machine.send(9, bytes: 1) == .enqueued)
    }

    @Test("a new sender queues behind waiting senders even when its element would fit (first come, first served)")
    func noOvertaking() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(1, bytes: 8) == .enqueued)
        block(&machine, [("a", 2, 5)])
        guard case .suspend = machine.send(3, bytes: 1) else { Issue.record("the small element overtook"); return }
    }

    @Test("send after finish is closed, whether elements are queued or not")
    func sendAfterFinish() {
        var machine = Machine(capacity: 2, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        #expect(machine.finish() == .none)
        #expect(machine.send(2, bytes: 1) == .closed)
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.send(3, bytes: 1) == .closed)
    }

    // MARK: receive

    @Test("receive takes queued elements oldest first and frees their bytes")
    func receiveWithElements() {
        var machine = Machine(capacity: 3, byteLimit: 100)
        for value in 1...3 { #expect(machine.send(value, bytes: value * 10) == .enqueued) }
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.queuedBytes == 50)
        #expect(machine.receive() == .element(2, admittedSenders: []))
        #expect(machine.receive() == .element(3, admittedSenders: []))
        #expect(machine.queuedBytes == 0 && machine.queuedCount == 0)
    }

    @Test("receive on an empty channel suspends, and the receiver waits")
    func receiveEmpty() {
        var machine = Machine(capacity: 1, byteLimit: 1)
        guard case .suspend(let id) = machine.receive() else { Issue.record("expected suspend"); return }
        #expect(machine.receiveSuspended(id: id, waiter: "r") == .suspended)
        #expect(machine.waitingReceivers == 1)
    }

    @Test("receive on a finished, drained channel is closed")
    func receiveFinishedAndDrained() {
        var machine = Machine(capacity: 1, byteLimit: 1)
        #expect(machine.finish() == .none)
        #expect(machine.receive() == .closed)
        #expect(machine.receive() == .closed)
    }

    @Test("a finished channel with elements hands them all out, then is closed")
    func receiveFinishedWithElements() {
        var machine = Machine(capacity: 3, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        #expect(machine.send(2, bytes: 1) == .enqueued)
        #expect(machine.finish() == .none)
        #expect(machine.isFinished)
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.receive() == .element(2, admittedSenders: []))
        #expect(machine.receive() == .closed)
    }

    // MARK: waking senders

    @Test("room wakes waiting senders from the head while the head fits, and no further")
    func wakeOrderByBytes() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(1, bytes: 4) == .enqueued)
        #expect(machine.send(2, bytes: 4) == .enqueued)
        block(&machine, [("a", 3, 3), ("b", 4, 4), ("c", 5, 1)])
        // 4 bytes left queued: a (3) fits, b (4) does not; c (1) would, but it stays behind b.
        #expect(machine.receive() == .element(1, admittedSenders: ["a"]))
        #expect(machine.queuedBytes == 7 && machine.waitingSenders == 2)
        // 3 bytes left: b and c fit, in order.
        #expect(machine.receive() == .element(2, admittedSenders: ["b", "c"]))
        #expect(machine.queuedBytes == 8 && machine.waitingSenders == 0)
        for expected in 3...5 {
            guard case .element(let value, _) = machine.receive() else { Issue.record("expected an element"); return }
            #expect(value == expected)
        }
    }

    @Test("room by count wakes only as many senders as fit")
    func wakeOrderByCount() {
        var machine = Machine(capacity: 2, byteLimit: 1000)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        #expect(machine.send(2, bytes: 1) == .enqueued)
        block(&machine, [("x", 3, 1), ("y", 4, 1)])
        #expect(machine.receive() == .element(1, admittedSenders: ["x"]))
        #expect(machine.waitingSenders == 1 && machine.queuedCount == 2)
        #expect(machine.receive() == .element(2, admittedSenders: ["y"]))
        #expect(machine.peaks.count == 2)
    }

    // MARK: cancellation

    @Test("cancelling a waiting sender resumes it alone; the others keep their places")
    func cancelWaitingSender() {
        var machine = Machine(capacity: 1, byteLimit: 100)
        #expect(machine.send(0, bytes: 1) == .enqueued)
        guard case .suspend(let a) = machine.send(1, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.sendSuspended(id: a, element: 1, bytes: 1, waiter: "a") == .suspended)
        guard case .suspend(let b) = machine.send(2, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.sendSuspended(id: b, element: 2, bytes: 1, waiter: "b") == .suspended)
        #expect(machine.cancelSend(b) == .resumeSenders(cancelled: "b", admitted: []))
        #expect(machine.waitingSenders == 1)
        #expect(machine.receive() == .element(0, admittedSenders: ["a"]))
        #expect(machine.receive() == .element(1, admittedSenders: []))
        guard case .suspend = machine.receive() else { Issue.record("b's element was queued"); return }
    }

    @Test("cancelling the head sender lets the senders behind it in when they fit")
    func cancelHeadSenderAdmitsOthers() {
        var machine = Machine(capacity: 10, byteLimit: 10)
        #expect(machine.send(0, bytes: 6) == .enqueued)
        guard case .suspend(let big) = machine.send(1, bytes: 9) else { Issue.record("expected suspend"); return }
        #expect(machine.sendSuspended(id: big, element: 1, bytes: 9, waiter: "big") == .suspended)
        block(&machine, [("small", 2, 3)])
        #expect(machine.cancelSend(big) == .resumeSenders(cancelled: "big", admitted: ["small"]))
        #expect(machine.queuedBytes == 9 && machine.waitingSenders == 0)
    }

    @Test("cancelling a waiting receiver resumes it alone; the next element goes to the others")
    func cancelWaitingReceiver() throws {
        var machine = Machine(capacity: 1, byteLimit: 1)
        let first = try #require(blockReceiver(&machine, "r1"))
        blockReceiver(&machine, "r2")
        #expect(machine.cancelReceive(first) == .resumeReceiver("r1"))
        #expect(machine.waitingReceivers == 1)
        #expect(machine.send(5, bytes: 1) == .resumeReceiver("r2", 5))
    }

    @Test("cancelling an id that was already resumed does nothing: its element or answer stands")
    func cancelAfterResume() throws {
        var machine = Machine(capacity: 1, byteLimit: 10)
        // A receiver handed an element, cancelled at the same moment: it keeps the element.
        let receiver = try #require(blockReceiver(&machine, "r"))
        #expect(machine.send(1, bytes: 1) == .resumeReceiver("r", 1))
        #expect(machine.cancelReceive(receiver) == .none)
        // A sender let in by a receive, cancelled at the same moment: its element stays queued.
        #expect(machine.send(2, bytes: 1) == .enqueued)
        guard case .suspend(let sender) = machine.send(3, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.sendSuspended(id: sender, element: 3, bytes: 1, waiter: "s") == .suspended)
        #expect(machine.receive() == .element(2, admittedSenders: ["s"]))
        #expect(machine.cancelSend(sender) == .none)
        #expect(machine.receive() == .element(3, admittedSenders: []))
        // Ids never announced, too.
        #expect(machine.cancelSend(999) == .none)
        #expect(machine.cancelReceive(999) == .none)
    }

    @Test("a cancellation between the announcement and the suspension is answered when the waiter arrives")
    func cancelBeforeSuspension() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        guard case .suspend(let sender) = machine.send(2, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.cancelSend(sender) == .none)
        // Room appeared meanwhile; the cancelled sender still does not send.
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.sendSuspended(id: sender, element: 2, bytes: 1, waiter: "s") == .resumeSender(false))
        #expect(machine.queuedCount == 0 && machine.waitingSenders == 0)

        guard case .suspend(let receiver) = machine.receive() else { Issue.record("expected suspend"); return }
        #expect(machine.cancelReceive(receiver) == .none)
        #expect(machine.send(3, bytes: 1) == .enqueued)
        #expect(machine.receiveSuspended(id: receiver, waiter: "r") == .resumeReceiver(nil, admittedSenders: []))
        // The element stays for the next receiver.
        #expect(machine.receive() == .element(3, admittedSenders: []))
    }

    // MARK: changes between the announcement and the suspension

    @Test("a sender that finds room, or a receiver, when it comes to suspend does not suspend")
    func sendSuspendedDecidesAgain() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        guard case .suspend(let a) = machine.send(2, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.sendSuspended(id: a, element: 2, bytes: 1, waiter: "a") == .resumeSender(true))
        #expect(machine.queuedCount == 1)

        guard case .suspend(let b) = machine.send(3, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.receive() == .element(2, admittedSenders: []))
        // A receiver came to wait before the sender suspended: a hand-off.
        blockReceiver(&machine, "r")
        #expect(machine.sendSuspended(id: b, element: 3, bytes: 1, waiter: "b") == .resumeSenderAndReceiver("r", 3))
        #expect(machine.queuedCount == 0 && machine.waitingReceivers == 0)
    }

    @Test("a receiver that finds an element, or the end, when it comes to suspend does not suspend")
    func receiveSuspendedDecidesAgain() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        guard case .suspend(let a) = machine.receive() else { Issue.record("expected suspend"); return }
        #expect(machine.send(1, bytes: 1) == .enqueued)
        #expect(machine.receiveSuspended(id: a, waiter: "a") == .resumeReceiver(1, admittedSenders: []))

        guard case .suspend(let b) = machine.receive() else { Issue.record("expected suspend"); return }
        #expect(machine.finish() == .none)
        #expect(machine.receiveSuspended(id: b, waiter: "b") == .resumeReceiver(nil, admittedSenders: []))
    }

    @Test("a sender that comes to suspend after finish is answered false")
    func sendSuspendedAfterFinish() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        guard case .suspend(let id) = machine.send(2, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(machine.finish() == .none)
        #expect(machine.sendSuspended(id: id, element: 2, bytes: 1, waiter: "s") == .resumeSender(false))
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.receive() == .closed)
    }

    // MARK: finish

    @Test("finish with waiting senders answers them false and keeps the queue to drain")
    func finishWithWaitingSenders() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        #expect(machine.send(1, bytes: 1) == .enqueued)
        block(&machine, [("a", 2, 1), ("b", 3, 1)])
        #expect(machine.finish() == .resumeSenders(["a", "b"]))
        #expect(machine.waitingSenders == 0)
        #expect(machine.receive() == .element(1, admittedSenders: []))
        #expect(machine.receive() == .closed)
        #expect(machine.finish() == .none)
    }

    @Test("finish with waiting receivers answers them nil and closes")
    func finishWithWaitingReceivers() {
        var machine = Machine(capacity: 1, byteLimit: 10)
        blockReceiver(&machine, "r1")
        blockReceiver(&machine, "r2")
        #expect(machine.finish() == .resumeReceivers(["r1", "r2"]))
        #expect(machine.waitingReceivers == 0 && machine.isFinished)
        #expect(machine.receive() == .closed)
        #expect(machine.send(1, bytes: 1) == .closed)
    }

    @Test("limits below 1 count as 1; negative sizes count as 0; a byte limit of Int.max does not overflow")
    func limitsAndSizes() {
        var tiny = Machine(capacity: 0, byteLimit: -5)
        #expect(tiny.capacity == 1 && tiny.byteLimit == 1)
        #expect(tiny.send(1, bytes: -10) == .enqueued)
        #expect(tiny.queuedBytes == 0)

        var huge = Machine(capacity: 3, byteLimit: .max)
        #expect(huge.send(1, bytes: .max - 1) == .enqueued)
        #expect(huge.send(2, bytes: 1) == .enqueued)
        guard case .suspend = huge.send(3, bytes: 1) else { Issue.record("expected suspend"); return }
        #expect(huge.queuedBytes == .max)
    }
}
