import HTTPTypes
import NIOCore
import Synchronization

/// Answers kept for `Idempotency-Key` replays: a client that lost an answer (a timeout, a dropped connection) sends
/// the same study with the same key again and gets the same answer without a second processing; the same key with
/// other content is a client bug, answered 409. Bounded by entries and by bytes, least recently used first out.
///
/// A key is "in flight" from the moment its request is admitted with it until its answer is stored: a second request
/// with the key meanwhile gets 409 with `Retry-After` rather than a second processing of the same study.
final class IdempotencyCache: Sendable {
    /// What to do with a request that carries a key.
    enum Lookup: Sendable {
        /// Process it, then ``finish(key:digest:answer:)``.
        case proceed
        /// Answer with what was kept.
        case replay(HTTPAnswer)
        /// The key was used for other content.
        case conflict
        /// The key is being processed for the same content now.
        case inFlight
    }

    private struct Entry {
        var digest: [UInt8]
        var answer: HTTPAnswer?  // nil while in flight
        var lastUse: UInt64
        var bytes: Int { answer?.byteCount ?? 0 }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Answers kept at most.
    let maxEntries: Int
    /// Bytes of answers kept at most.
    let maxBytes: Int

    /// A cache of at most `maxEntries` answers and `maxBytes` bytes of bodies.
    init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// Looks `key` up for a body of SHA-256 `digest`; `.proceed` marks it in flight.
    func begin(key: String, digest: [UInt8]) -> Lookup {
        state.withLock { state in
            state.clock += 1
            guard var entry = state.entries[key] else {
                state.entries[key] = Entry(digest: digest, answer: nil, lastUse: state.clock)
                return .proceed
            }
            guard entry.digest == digest else { return .conflict }
            guard let answer = entry.answer else { return .inFlight }
            entry.lastUse = state.clock
            state.entries[key] = entry
            return .replay(answer)
        }
    }

    /// Ends the flight of `key`: keeps `answer` (nil: forget the key, e.g. after a refusal worth retrying), then
    /// evicts the least recently used answers past the bounds.
    func finish(key: String, digest: [UInt8], answer: HTTPAnswer?) {
        state.withLock { state in
            guard let entry = state.entries[key], entry.digest == digest, entry.answer == nil else { return }
            guard let answer, maxEntries > 0, answer.byteCount <= maxBytes else {
                state.entries[key] = nil
                return
            }
            state.clock += 1
            state.entries[key] = Entry(digest: digest, answer: answer, lastUse: state.clock)
            state.bytes += answer.byteCount
            while state.bytes > maxBytes || state.entries.values.count(where: { $0.answer != nil }) > maxEntries {
                guard let oldest = state.entries.filter({ $0.value.answer != nil }).min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
                state.bytes -= oldest.value.bytes
                state.entries[oldest.key] = nil
            }
        }
    }

    /// Answers kept, and their bytes.
    var usage: (entries: Int, bytes: Int) {
        state.withLock { ($0.entries.values.count(where: { $0.answer != nil }), $0.bytes) }
    }
}
