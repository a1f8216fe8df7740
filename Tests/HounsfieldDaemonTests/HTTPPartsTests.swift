import Foundation
@testable import HounsfieldDaemon
import HTTPTypes
import NIOCore
import Testing

/// The HTTP API's parts without a server: admission, the idempotency cache, body formats, media types, tokens.
@Suite("HTTP API: parts")
struct HTTPPartsTests {
    @Test("admission: processing + waiting bounded; slots go first come first served; cancelled waiters stop counting")
    func admission() {
        var gate = AdmissionStateMachine(processingLimit: 1, waitingLimit: 2)
        // Mutating calls are made outside #expect, whose expansion takes its operand as a constant.
        var admitted = (0..<4).map { _ in gate.admit() }
        #expect(admitted == [true, true, true, false])  // 1 + 2 admitted
        let slots = [gate.requestSlot(id: 1), gate.requestSlot(id: 2), gate.requestSlot(id: 3)]
        #expect(slots == [.proceed, .suspend, .suspend])
        #expect((gate.processing, gate.waiting) == (1, 2))
        admitted = [gate.admit()]
        #expect(admitted == [false])
        let cancelled = [gate.cancel(id: 2), gate.cancel(id: 2)]
        #expect(cancelled == [true, false])  // gone from the queue, no longer counted
        admitted = [gate.admit()]
        #expect(admitted == [true])  // its place is free
        gate.leaveWaiting()
        var next = gate.finishProcessing()
        #expect(next == 3)
        #expect((gate.processing, gate.waiting) == (1, 0))
        next = gate.finishProcessing()
        #expect(next == nil)
        #expect((gate.processing, gate.waiting) == (0, 0))
        var none = AdmissionStateMachine(processingLimit: 1, waitingLimit: 0)
        admitted = [none.admit(), none.admit()]
        #expect(admitted == [true, false])
    }

    @Test("idempotency: replay, conflict, in flight; least recently used answers go first, by count and bytes")
    func idempotencyCache() {
        let cache = IdempotencyCache(maxEntries: 2, maxBytes: 100)
        func answer(_ size: Int) -> HTTPAnswer { HTTPAnswer(status: .ok, headers: [:], body: ByteBuffer(repeating: 1, count: size)) }
        #expect(cache.begin(key: "a", digest: [1]).name == "proceed")
        #expect(cache.begin(key: "a", digest: [1]).name == "inFlight")
        #expect(cache.begin(key: "a", digest: [2]).name == "conflict")
        cache.finish(key: "a", digest: [1], answer: answer(40))
        #expect(cache.begin(key: "a", digest: [1]).name == "replay")
        #expect(cache.begin(key: "b", digest: [1]).name == "proceed")
        cache.finish(key: "b", digest: [1], answer: answer(40))
        _ = cache.begin(key: "a", digest: [1])  // a used more recently than b
        #expect(cache.begin(key: "c", digest: [1]).name == "proceed")
        cache.finish(key: "c", digest: [1], answer: answer(40))  // three answers: b goes
        #expect(cache.usage == (2, 80))
        #expect(cache.begin(key: "b", digest: [9]).name == "proceed")  // forgotten
        cache.finish(key: "b", digest: [9], answer: nil)  // a refusal: not kept
        #expect(cache.begin(key: "d", digest: [1]).name == "proceed")
        cache.finish(key: "d", digest: [1], answer: answer(90))  // bytes: only d fits
        #expect(cache.usage == (1, 90))
        #expect(cache.begin(key: "e", digest: [1]).name == "proceed")
        cache.finish(key: "e", digest: [1], answer: answer(101))  // larger than the cache: not kept
        #expect(cache.usage == (1, 90))
    }

    @Test("multipart/related: preamble, parts with and without headers, closing delimiter; cut bodies refused")
    func multipart() throws {
        let body = Array("preamble\r\n--XyZ\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--XyZ\r\n\r\nsecond\r\n\r\n--XyZ--\r\nepilogue".utf8)
        let parts = try body.withUnsafeBytes { try MultipartRelated.parts(of: $0, boundary: "XyZ") }
        #expect(parts.count == 2)
        #expect(parts.map { String(decoding: body[$0.content], as: UTF8.self) } == ["first", "second\r\n"])
        #expect(parts[0].headers["content-type"] == "application/dicom")
        let cut = Array("--XyZ\r\n\r\nfirst".utf8)
        #expect(throws: HTTPFailure.self) { try cut.withUnsafeBytes { try MultipartRelated.parts(of: $0, boundary: "XyZ") } }
        let wrong = Array("--abc\r\n\r\nfirst\r\n--abc--".utf8)
        #expect(throws: HTTPFailure.self) { try wrong.withUnsafeBytes { try MultipartRelated.parts(of: $0, boundary: "XyZ") } }
    }

    @Test("Content-Type: quoted parameters, case, and the kinds of body taken")
    func contentTypes() throws {
        let type = try #require(ContentType(#"Multipart/Related; type="application/dicom"; boundary="a;b=c""#))
        #expect(type.essence == "multipart/related")
        #expect(type.parameters == ["type": "application/dicom", "boundary": "a;b=c"])
        #expect(try StudyUpload.kind(of: "multipart/related; boundary=Q") == .multipart(boundary: "Q"))
        #expect(try StudyUpload.kind(of: "application/zip") == .zip)
        #expect(try StudyUpload.kind(of: "application/x-tar") == .tar)
        #expect(throws: HTTPFailure.self) { try StudyUpload.kind(of: "multipart/related; type=application/dicom+json; boundary=Q") }
        #expect(throws: HTTPFailure.self) { try StudyUpload.kind(of: nil) }
    }

    @Test("tar: pax long names, directories skipped, links and climbing names refused")
    func tar() throws {
        func header(_ name: String, size: Int, type: Character) -> [UInt8] {
            var block = [UInt8](repeating: 0, count: 512)
            for (index, byte) in name.utf8.prefix(100).enumerated() { block[index] = byte }
            for (index, byte) in String(format: "%011o", size).utf8.enumerated() { block[124 + index] = byte }
            block[156] = UInt8(ascii: type.unicodeScalars.first!)
            for (index, byte) in "ustar\u{0}00".utf8.enumerated() { block[257 + index] = byte }
            for index in 148..<156 { block[index] = 32 }
            let sum = block.reduce(0) { $0 + Int($1) }
            for (index, byte) in String(format: "%06o\u{0} ", sum).utf8.enumerated() { block[148 + index] = byte }
            return block
        }
        func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512) }
        let longName = "study/" + String(repeating: "n", count: 150) + ".dcm"
        let record = " path=\(longName)\n"
        let pax = "\(record.utf8.count + String(record.utf8.count + 3).count)\(record)"
        var archive = header("study/", size: 0, type: "5")
        archive += header("PaxHeader", size: pax.utf8.count, type: "x") + padded(Array(pax.utf8))
        archive += header("short", size: 5, type: "0") + padded(Array("hello".utf8))
        archive += [UInt8](repeating: 0, count: 1024)
        let members = try archive.withUnsafeBytes { try TarArchive.members(of: $0) }
        #expect(members.map(\.name) == [longName])
        #expect(members.map { String(decoding: archive[$0.content], as: UTF8.self) } == ["hello"])
        let link = header("study/link", size: 0, type: "2") + [UInt8](repeating: 0, count: 1024)
        #expect(throws: HTTPFailure.self) { try link.withUnsafeBytes { try TarArchive.members(of: $0) } }
        let climbing = header("../etc/passwd", size: 0, type: "0") + [UInt8](repeating: 0, count: 1024)
        #expect(throws: HTTPFailure.self) { try climbing.withUnsafeBytes { try TarArchive.members(of: $0) } }
    }

    @Test("bearer token: only the exact token passes")
    func bearer() {
        let token = BearerToken("abc")
        #expect(token.refusal(of: "Bearer abc") == nil)
        #expect(token.refusal(of: "bearer abc") == nil)
        #expect(token.refusal(of: "Bearer abd")?.status == .unauthorized)
        #expect(token.refusal(of: "Bearer ab")?.status == .unauthorized)
        #expect(token.refusal(of: "Basic abc")?.status == .unauthorized)
        #expect(token.refusal(of: nil)?.headers[.wwwAuthenticate] == #"Bearer realm="hounsfield""#)
    }
}

extension IdempotencyCache.Lookup {
    /// The case's name, without its answer.
    var name: String {
        switch self {
        case .proceed: "proceed"
        case .replay: "replay"
        case .conflict: "conflict"
        case .inFlight: "inFlight"
        }
    }
}
