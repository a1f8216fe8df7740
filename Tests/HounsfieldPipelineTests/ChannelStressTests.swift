import HounsfieldCore
@testable import HounsfieldPipeline
import Synchronization
import Testing

/// The channel under many tasks, and under cancellation. Every loop is bounded in count, and every test body runs
/// under a time limit, so a wedged channel fails its test instead of hanging the run.
@Suite("Channel stress and cancellation: nothing lost, nothing duplicated, bounds held")
struct ChannelStressTests {
    @Test("8 producers × 8 consumers, 20,000 elements of random sizes: each received once, bounds held throughout")
    func manyProducersAndConsumers() async throws {
        let producers = 8, consumers = 8, total = 20_000
        let channel = BoundedChannel<Int>(capacity: 16, byteLimit: 4096)
        var generator = SplitMix64(seed: 0x5EED_C4A7)
        // Mostly up to a quarter of the bound, one in a hundred larger than the whole bound.
        let sizes = (0..<total).map { _ in
            generator.next() % 100 == 0 ? Int(5000 + generator.next() % 3000) : Int(generator.next() % 1025)
        }
        let violations = Box<[String]>([])
        let producing = Box(producers)

        let outcome = await withTimeout(seconds: 300) { () -> ([Int], [Bool]) in
            await withTaskGroup(of: ([Int], [Bool]).self) { group in
                for producer in 0..<producers {
                    group.addTask {
                        var results: [Bool] = []
                        for value in stride(from: producer, to: total, by: producers) {
                            results.append(await channel.send(value, bytes: sizes[value]))
                        }
                        // The last producer finishes the channel; the consumers then drain it and end.
                        if producing.withLock({ $0 -= 1; return $0 }) == 0 { channel.finish() }
                        return ([], results)
                    }
                }
                for consumer in 0..<consumers {
                    group.addTask {
                        var received: [Int] = []
                        // After each receive, the bounds at that moment (read under the channel's lock).
                        func check() {
                            let now = channel.storage.snapshot
                            if now.queuedCount > channel.capacity
                                || (now.queuedCount > 1 && now.queuedBytes > channel.byteLimit) {
                                violations.withLock { $0.append("\(now.queuedCount) elements, \(now.queuedBytes) bytes") }
                            }
                        }
                        // Half the consumers iterate, half call receive: both are the same receive.
                        if consumer.isMultiple(of: 2) {
                            for await value in channel {
                                received.append(value)
                                check()
                            }
                        } else {
                            while let value = await channel.receive() {
                                received.append(value)
                                check()
                                if value.isMultiple(of: 7) { await Task.yield() }
                            }
                        }
                        return (received, [])
                    }
                }
                var received: [Int] = []
                var sent: [Bool] = []
                for await (values, results) in group {
                    received += values
                    sent += results
                }
                return (received, sent)
            }
        }
        let (received, sent) = try #require(outcome, "the channel wedged")
        #expect(sent.count == total && sent.allSatisfy { $0 })
        #expect(summary(of: received, total: total) == .init(missing: 0, duplicated: 0, foreign: 0), "every element once")
        #expect(violations.withLock { $0 }.isEmpty)
        let peaks = channel.storage.snapshot.peaks
        #expect(peaks.count <= channel.capacity)
        #expect(peaks.bytesWithSeveral <= channel.byteLimit)
        #expect(peaks.bytes > channel.byteLimit, "an oversized element went through alone")
        #expect(channel.queuedBytes == 0)
    }

    @Test("cancelling a blocked sender returns false, keeps the sender behind it in line, and does not wedge the channel")
    func cancelBlockedSender() async throws {
        let channel = BoundedChannel<Int>(capacity: 1, byteLimit: 10)
        let outcome = await withTimeout(seconds: 300) { () -> Bool in
            #expect(await channel.send(0, bytes: 1))
            let blocked = Task { await channel.send(1, bytes: 1) }
            guard await eventually({ channel.storage.snapshot.waitingSenders == 1 }) else { return false }
            let behind = Task { await channel.send(2, bytes: 1) }
            guard await eventually({ channel.storage.snapshot.waitingSenders == 2 }) else { return false }
            blocked.cancel()
            #expect(await blocked.value == false)
            #expect(channel.storage.snapshot.waitingSenders == 1)
            #expect(await channel.receive() == 0)
            #expect(await behind.value == true)
            #expect(await channel.receive() == 2)
            #expect(await channel.send(3, bytes: 1))
            #expect(await channel.receive() == 3)
            return true
        }
        #expect(outcome == true, "timed out or a sender never blocked")
    }

    @Test("cancelling a blocked receiver returns nil; the other waiting receiver gets the next element")
    func cancelBlockedReceiver() async throws {
        let channel = BoundedChannel<Int>(capacity: 4, byteLimit: 100)
        let outcome = await withTimeout(seconds: 300) { () -> Bool in
            let cancelled = Task { await channel.receive() }
            guard await eventually({ channel.storage.snapshot.waitingReceivers == 1 }) else { return false }
            let other = Task { await channel.receive() }
            guard await eventually({ channel.storage.snapshot.waitingReceivers == 2 }) else { return false }
            cancelled.cancel()
            #expect(await cancelled.value == nil)
            #expect(await channel.send(42, bytes: 1))
            #expect(await other.value == 42)
            #expect(channel.storage.snapshot.queuedCount == 0)
            return true
        }
        #expect(outcome == true, "timed out or a receiver never blocked")
    }

    @Test("a task cancelled before it sends or receives does neither: false, nil, and the queue is untouched")
    func alreadyCancelled() async {
        let channel = BoundedChannel<Int>(capacity: 4, byteLimit: 100)
        #expect(await channel.send(1, bytes: 1))
        let sender = Task { () -> Bool in
            try? await Task.sleep(for: .seconds(60))
            return await channel.send(2, bytes: 1)
        }
        sender.cancel()
        #expect(await sender.value == false)
        let receiver = Task { () -> Int? in
            try? await Task.sleep(for: .seconds(60))
            return await channel.receive()
        }
        receiver.cancel()
        #expect(await receiver.value == nil)
        #expect(channel.storage.snapshot.queuedCount == 1)
        #expect(await channel.receive() == 1)
    }

    @Test("for await ends when the channel is finished and drained, and when the iterating task is cancelled")
    func iteration() async throws {
        let channel = BoundedChannel<Int>(capacity: 8)
        for value in 0..<5 { #expect(await channel.send(value, bytes: 0)) }
        channel.finish()
        var seen: [Int] = []
        for await value in channel { seen.append(value) }
        #expect(seen == [0, 1, 2, 3, 4])

        let open = BoundedChannel<Int>(capacity: 8)
        let outcome = await withTimeout(seconds: 300) { () -> Bool in
            let iterating = Task { () -> Int in
                var count = 0
                for await _ in open { count += 1 }
                return count
            }
            guard await eventually({ open.storage.snapshot.waitingReceivers == 1 }) else { return false }
            iterating.cancel()
            return await iterating.value == 0
        }
        #expect(outcome == true)
    }

    @Test("senders and receivers cancelled at random mid-stream: each element received exactly once, or reported unsent")
    func randomCancellation() async throws {
        let total = 6_000, producerSlots = 4, consumerSlots = 4
        let channel = BoundedChannel<Int>(capacity: 4, byteLimit: 64)
        let received = Box<[Int]>([])
        let unsent = Box<[Int]>([])
        let running = Box<[Int: Task<Bool, Never>]>([:])  // slot → its current task (producers first, then consumers)
        let producing = Box(producerSlots)
        let random = Box(SplitMix64(seed: 0xCA9CE1))
        let rounds = Box(0)

        let outcome = await withTimeout(seconds: 300) { () -> Bool in
            await withTaskGroup(of: Void.self) { group in
                // A producer slot sends its values in order; when its task is cancelled (send answered false), that
                // value is reported unsent and a new task carries on with the next one.
                for slot in 0..<producerSlots {
                    group.addTask {
                        let values = Array(stride(from: slot, to: total, by: producerSlots))
                        let next = Box(0)
                        for _ in 0..<(values.count + 1) {
                            let task = Task { () -> Bool in
                                while true {
                                    let index = next.withLock { $0 }
                                    guard index < values.count else { return true }
                                    let value = values[index]
                                    let sent = await channel.send(value, bytes: 1 + value % 32)
                                    if !sent { unsent.withLock { $0.append(value) } }
                                    next.withLock { $0 = index + 1 }
                                    if !sent { return false }
                                }
                            }
                            running.withLock { $0[slot] = task }
                            if await task.value { break }
                            rounds.withLock { $0 += 1 }
                        }
                        if producing.withLock({ $0 -= 1; return $0 }) == 0 { channel.finish() }
                    }
                }
                // A consumer slot receives until the channel ends; a cancelled consumer is replaced.
                for slot in producerSlots..<(producerSlots + consumerSlots) {
                    group.addTask {
                        for _ in 0..<(total + 1) {
                            let task = Task { () -> Bool in
                                while let value = await channel.receive() {
                                    received.withLock { $0.append(value) }
                                }
                                return !Task.isCancelled
                            }
                            running.withLock { $0[slot] = task }
                            if await task.value && channel.storage.snapshot.isFinished { break }
                            rounds.withLock { $0 += 1 }
                        }
                    }
                }
                // The canceller: a random slot's task every few hundred microseconds, while producers run.
                group.addTask {
                    for _ in 0..<100_000 {
                        guard producing.withLock({ $0 }) > 0 else { return }
                        let slot = random.withLock { Int($0.next() % UInt64(producerSlots + consumerSlots)) }
                        running.withLock { $0[slot] }?.cancel()
                        try? await Task.sleep(for: .microseconds(Int(random.withLock { $0.next() % 500 })))
                    }
                }
            }
            return true
        }
        #expect(outcome == true, "the channel wedged")
        let got = received.withLock { $0 }
        let lost = unsent.withLock { $0 }
        // Received or reported unsent, exactly once in all: never both, never twice, never neither.
        #expect(summary(of: got + lost, total: total) == .init(missing: 0, duplicated: 0, foreign: 0))
        #expect(!lost.isEmpty, "some send was cancelled")
        #expect(rounds.withLock { $0 } > 0, "some task was cancelled")
        #expect(channel.storage.snapshot.queuedCount == 0)
        let peaks = channel.storage.snapshot.peaks
        #expect(peaks.count <= channel.capacity && peaks.bytesWithSeveral <= channel.byteLimit)
    }
}

// MARK: Helpers

private struct Tally: Equatable {
    var missing: Int
    var duplicated: Int
    var foreign: Int
}

/// How `values` differ from 0..<total taken once each, as counts (a short message when a test fails).
private func summary(of values: [Int], total: Int) -> Tally {
    var seen = [Int](repeating: 0, count: total)
    var foreign = 0
    for value in values {
        if (0..<total).contains(value) { seen[value] += 1 } else { foreign += 1 }
    }
    return Tally(missing: seen.count { $0 == 0 }, duplicated: seen.reduce(0) { $0 + max(0, $1 - 1) }, foreign: foreign)
}

/// Runs `body` in a task of its own and returns its value, or nil (recording an issue) when it takes more than
/// `seconds`: the wait does not depend on `body` ending, so a wedged body fails the test instead of hanging it.
private func withTimeout<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async -> T) async -> T? {
    let work = Task { await body() }
    let waiting = Box<CheckedContinuation<T?, Never>?>(nil)
    let timer = Box<Task<Void, Never>?>(nil)
    let resume: @Sendable (T?) -> Void = { value in
        waiting.withLock { $0.take() }?.resume(returning: value)
    }
    let value = await withCheckedContinuation { continuation in
        waiting.withLock { $0 = continuation }
        Task { resume(await work.value) }
        timer.withLock {
            $0 = Task {
                try? await Task.sleep(for: .seconds(seconds))
                resume(nil)
            }
        }
    }
    timer.withLock { $0 }?.cancel()
    if value == nil {
        work.cancel()
        Issue.record("timed out after \(seconds) s")
    }
    return value
}

/// Polls `condition` up to 60,000 times, a millisecond apart. Counted in polls, not in wall time: the whole suite
/// runs in parallel on two cores, and a task that waited long for a thread must still get its polls.
private func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<60_000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return false
}

/// A value shared between tasks, behind a lock (a class, so escaping closures can capture it).
private final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}
