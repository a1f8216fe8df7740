import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldPipeline
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/studies`: one study in, its processed volumes out as safetensors, synchronously. The refusals that
/// cost nothing come first (readiness 503, media type 415, `Content-Length` over the limit 413, a full gate 503),
/// all before a byte of the body is read; then the upload, the `Idempotency-Key` check, the wait for a processing
/// slot, and the processing, all within the request timeout.
struct StudyEndpoint: Sendable {
    let options: HTTPOptions
    let preprocessor: Preprocessor
    let readiness: Readiness
    let gate: AdmissionGate
    let cache: IdempotencyCache
    let metrics: HTTPMetrics
    let logger: Logger
    /// Runs in the processing slot before the study is processed: tests hold the slot with it.
    let beforeProcessing: (@Sendable () async throws -> Void)?

    /// The answer to one upload; never throws (every failure is a JSON answer).
    func respond(to request: Request) async -> Response {
        let started = ContinuousClock.now
        defer { metrics.study(took: ContinuousClock.now - started) }
        do {
            let response = try await handle(request)
            logger.info("study answered", metadata: [
                "status": "\(response.status.code)", "volumes": "\(response.headers[HTTPField.Name("Hounsfield-Volumes")!] ?? "0")",
                "seconds": "\((ContinuousClock.now - started).inSeconds)",
            ])
            return response
        } catch let failure as HTTPFailure {
            logger.info("study refused", metadata: ["status": "\(failure.status.code)", "error": "\(failure.error)"])
            return failure.response
        } catch {
            logger.error("study request failed", metadata: ["error": "\(error)"])
            return HTTPFailure(status: .internalServerError, error: "the daemon failed: \(error)",
                               hint: "this is a fault of the daemon, not of the upload; its log has the details").response
        }
    }

    private func handle(_ request: Request) async throws -> Response {
        guard readiness.isReady else {
            throw HTTPFailure(status: .serviceUnavailable, error: "the daemon is starting or shutting down",
                              hint: "retry after Retry-After seconds, or send to another instance; GET /readyz says when it takes studies",
                              headers: [.retryAfter: String(options.retryAfterSeconds)])
        }
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            throw HTTPFailure(status: .unsupportedMediaType, error: "Content-Encoding \(encoding) is not read",
                              hint: "send the body uncompressed; zip the study (application/zip) to send it smaller")
        }
        let kind = try StudyUpload.kind(of: request.headers[.contentType])
        let expectedLength = request.headers[.contentLength].flatMap { Int($0) }
        if let expectedLength, expectedLength > options.maxBodyBytes { throw BodyCollector.tooLarge(limit: options.maxBodyBytes) }
        let idempotencyKey = try Self.idempotencyKey(request)
        guard gate.admit() else {
            throw HTTPFailure(status: .serviceUnavailable,
                              error: "the daemon is busy: \(options.concurrentStudies) studies processing and \(options.queueLength) waiting",
                              hint: "retry after Retry-After seconds (with the same Idempotency-Key, if you sent one)",
                              headers: [.retryAfter: String(options.retryAfterSeconds)])
        }
        reportGate()
        let progress = RequestDeadline.Progress()
        let answer = try await RequestDeadline.run(within: options.requestTimeout) {
            try await admitted(request, kind: kind, expectedLength: expectedLength, key: idempotencyKey, progress: progress)
        }
        reportGate()
        guard let answer else {
            throw progress.current == .uploading
                ? HTTPFailure(status: .requestTimeout, error: "the upload took longer than the request timeout (\(options.requestTimeout))",
                              hint: "send the study faster or in smaller parts (one request per study); the daemon's request timeout can be raised",
                              headers: [.connection: "close"])
                : HTTPFailure(status: .gatewayTimeout, error: "the study was not processed within the request timeout (\(options.requestTimeout))",
                              hint: "retry later (with the same Idempotency-Key) when the daemon is less busy; the daemon's request timeout can be raised")
        }
        return answer.response
    }

    /// The work of an admitted request; leaves the gate or processes through it, whatever happens.
    private func admitted(_ request: Request, kind: StudyUpload.Kind, expectedLength: Int?, key: String?,
                          progress: RequestDeadline.Progress) async throws -> HTTPAnswer {
        let uploadStarted = ContinuousClock.now
        let body: (bytes: [UInt8], digest: [UInt8]?)
        do {
            body = try await BodyCollector.collect(request.body, expectedLength: expectedLength, limit: options.maxBodyBytes,
                                                   hashing: key != nil, received: metrics.received)
        } catch {
            gate.leave()
            throw error
        }
        let uploadSeconds = (ContinuousClock.now - uploadStarted).inSeconds
        if let key, let digest = body.digest {
            switch cache.begin(key: key, digest: digest) {
            case .proceed: break
            case .replay(let answer):
                gate.leave()
                var replayed = answer
                replayed.headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
                return replayed
            case .conflict:
                gate.leave()
                throw HTTPFailure(status: .conflict, error: "Idempotency-Key \(key) was already used for other content",
                                  hint: "use a new key for each different study; resend the same body to get the kept answer")
            case .inFlight:
                gate.leave()
                throw HTTPFailure(status: .conflict, error: "a request with Idempotency-Key \(key) is still being processed",
                                  hint: "retry after Retry-After seconds to get its answer",
                                  headers: [.retryAfter: String(options.retryAfterSeconds)])
            }
        }
        progress.enter(.waiting)
        var kept: HTTPAnswer?
        defer { if let key, let digest = body.digest { cache.finish(key: key, digest: digest, answer: kept) } }
        let outcome = try await gate.process {
            progress.enter(.processing)
            reportGate()
            try await beforeProcessing?()
            let parseStarted = ContinuousClock.now
            let expandable = options.maxBodyBytes.multipliedReportingOverflow(by: 4)
            let objects = try StudyUpload.objects(of: body.bytes, kind: kind,
                                                  maxExpandedBytes: expandable.overflow ? Int.max : expandable.partialValue)
            let processStarted = ContinuousClock.now
            let study: ProcessedStudy
            do {
                study = try await preprocessor.processStudy(buffers: objects)
            } catch let error as DICOMError {
                throw HTTPFailure(status: .unprocessableContent, error: "the study could not be processed: \(error)",
                                  hint: "the named file is damaged or unsupported: send the study without it (`hounsfield inspect` on a copy says more)")
            }
            let encodeStarted = ContinuousClock.now
            func milliseconds(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> Int { Int((to - from).inSeconds * 1000) }
            let timing = "upload;dur=\(Int(uploadSeconds * 1000)), parse;dur=\(milliseconds(parseStarted, processStarted)), process;dur=\(milliseconds(processStarted, encodeStarted))"
            return answer(for: study, timing: { "\(timing), encode;dur=\(milliseconds(encodeStarted, ContinuousClock.now))" })
        }
        // Outcomes that another try would repeat are kept; refusals worth retrying (busy, timed out) are not.
        if outcome.status == .ok || outcome.status == .unprocessableContent { kept = outcome }
        return outcome
    }

    /// 200 with the volumes, or 422 saying why the study gave none.
    private func answer(for study: ProcessedStudy, timing: () -> String) -> HTTPAnswer {
        let configuration = preprocessor.processor.configuration
        var headers: HTTPFields = [
            HTTPField.Name("Hounsfield-Volumes")!: String(study.volumes.count),
            HTTPField.Name("Hounsfield-Files")!: String(study.files),
            HTTPField.Name("Hounsfield-Excluded-Files")!: String(study.excluded.count),
            HTTPField.Name("Hounsfield-Skipped-Series")!: String(study.skipped.count),
            HTTPField.Name("Hounsfield-Configuration-Key")!: configuration.key,
        ]
        guard !study.volumes.isEmpty else {
            var failure = HTTPFailure(
                status: .unprocessableContent,
                error: study.noSeriesMessage ?? "no series selected: \(study.skipped.count) series found, none passes the daemon's filters",
                hint: "send a study with a CT series of at least two slices (the DICOM files themselves), or start the daemon with filters that select what you send (configuration `filters`)")
            let keepsIdentifiers = configuration.privacy.keepIdentifiers
            failure.details = study.skipped.prefix(50).map { outcome in
                let name = keepsIdentifiers ? outcome.description.map { " (\($0))" } ?? "" : ""
                return "series \(outcome.key)\(name): \(outcome.reason ?? outcome.status.rawValue)"
            } + study.excluded.prefix(50).map { "file \($0.file): \($0.reason)" }
            headers[HTTPField.Name("Server-Timing")!] = timing()
            for field in headers { failure.headers.append(field) }
            return failure.answer
        }
        headers[HTTPField.Name("Hounsfield-Keys")!] = study.volumes.map(\.key).joined(separator: ",")
        headers[.contentType] = SafetensorsEncoding.mediaType
        let body = SafetensorsEncoding.answer(study.volumes, configurationKey: configuration.key,
                                              keepsIdentifiers: configuration.privacy.keepIdentifiers)
        headers[HTTPField.Name("Server-Timing")!] = timing()
        return HTTPAnswer(status: .ok, headers: headers, safetensors: body)
    }

    /// The `Idempotency-Key` sent, checked: at most 255 visible ASCII characters.
    private static func idempotencyKey(_ request: Request) throws(HTTPFailure) -> String? {
        guard let key = request.headers[HTTPField.Name("Idempotency-Key")!] else { return nil }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPFailure(status: .badRequest, error: "the Idempotency-Key is empty, too long or not plain ASCII",
                              hint: "send a key of up to 255 visible ASCII characters, e.g. a UUID, the same for each retry of one study")
        }
        return key
    }

    private func reportGate() {
        let depth = gate.depth
        metrics.gate(processing: depth.processing, waiting: depth.waiting)
    }
}
