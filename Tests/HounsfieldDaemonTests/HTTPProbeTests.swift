import Foundation
import Hounsfield
@testable import HounsfieldDaemon
import HounsfieldTestSupport
import Logging
import Prometheus
import ServiceLifecycle
import Testing

/// Probes, metrics, graceful shutdown and TLS.
@Suite("HTTP API: probes, metrics, shutdown, TLS")
struct HTTPProbeTests {
    @Test("/healthz answers while the process runs; /readyz follows Readiness; studies wait for readiness", .timeLimit(.minutes(5)))
    func probes() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let readiness = Readiness()
        try await HTTPTestSupport.withService(readiness: readiness) { _, base in
            #expect(try await HTTPTestSupport.curl(["\(base)/healthz"], in: root).status == 200)
            #expect(try await HTTPTestSupport.curl(["\(base)/readyz"], in: root).status == 503)
            let early = try await HTTPTestSupport.curl(["-H", "Content-Type: application/dicom", "--data-binary", "x", "\(base)/v1/studies"], in: root)
            #expect(early.status == 503)
            #expect(early.headers["retry-after"] != nil)
            readiness.markReady()
            #expect(try await HTTPTestSupport.curl(["\(base)/readyz"], in: root).status == 200)
            readiness.markDraining()
            #expect(try await HTTPTestSupport.curl(["\(base)/readyz"], in: root).status == 503)
            #expect(try await HTTPTestSupport.curl(["\(base)/healthz"], in: root).status == 200)
        }
    }

    @Test("/metrics shows the hounsfield_http_ metrics from the given registry", .timeLimit(.minutes(5)))
    func metrics() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = try HTTPTestSupport.study(in: root.appendingPathComponent("study"), size: 32, slices: 6)
        let registry = PrometheusCollectorRegistry()
        try await HTTPTestSupport.withService(registry: registry) { _, base in
            #expect(try await HTTPTestSupport.curl(["\(base)/healthz"], in: root).status == 200)
            let study = try await HTTPTestSupport.curl(["-H", "Content-Type: application/dicom", "--data-binary", "@\(files[0].path)",
                                                        "\(base)/v1/studies"], in: root)
            #expect(study.status == 422)  // one slice: below minimum_slices
            let answer = try await HTTPTestSupport.curl(["\(base)/metrics"], in: root)
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = String(decoding: answer.body, as: UTF8.self)
            #expect(text.contains(#"hounsfield_http_requests_total{endpoint="/healthz",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"hounsfield_http_requests_total{endpoint="/v1/studies",status="422"} 1"#), "\(text)")
            #expect(text.contains("hounsfield_http_study_seconds_bucket"), "\(text)")
            #expect(text.contains("hounsfield_http_queue_depth"), "\(text)")
            #expect(text.contains("hounsfield_http_received_bytes_total"), "\(text)")
        }
    }

    @Test("with studies off, POST /v1/studies is 404 with what to do instead; the probes and /metrics still answer",
          .timeLimit(.minutes(5)))
    func studiesOff() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = try HTTPTestSupport.study(in: root.appendingPathComponent("study"), size: 32, slices: 6)
        var options = HTTPOptions()
        options.servesStudies = false
        try await HTTPTestSupport.withService(options, registry: PrometheusCollectorRegistry()) { _, base in
            let study = try await HTTPTestSupport.curl(["-H", "Content-Type: application/dicom", "--data-binary", "@\(files[0].path)",
                                                        "\(base)/v1/studies"], in: root)
            #expect(study.status == 404)
            #expect((study.json["error"] as? String)?.contains("takes no studies") == true, "\(study.json)")
            #expect(try await HTTPTestSupport.curl(["\(base)/healthz"], in: root).status == 200)
            #expect(try await HTTPTestSupport.curl(["\(base)/readyz"], in: root).status == 200)
            let metrics = try await HTTPTestSupport.curl(["\(base)/metrics"], in: root)
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"endpoint="/v1/studies",status="404""#))
        }
    }

    @Test("graceful shutdown lets the study in flight finish and answer, then the service ends", .timeLimit(.minutes(5)))
    func gracefulShutdown() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let files = try HTTPTestSupport.study(in: root.appendingPathComponent("study"), size: 32, slices: 6)
        let body = root.appendingPathComponent("body")
        try HTTPTestSupport.multipart(files, boundary: "g").write(to: body)
        let latch = Latch()
        let readiness = Readiness()
        readiness.markReady()
        let service = try HTTPService(options: HTTPOptions(), preprocessor: try Preprocessor(configuration: HTTPTestSupport.configuration()),
                                      readiness: readiness, metrics: nil, logger: Logger(label: "test.http"),
                                      beforeProcessing: { try await latch.wait() })
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.group"))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let port = try #require(await service.waitForPort())
        let inFlight = try HTTPTestSupport.startCurl(["-H", "Content-Type: multipart/related; type=\"application/dicom\"; boundary=g",
                                                      "--data-binary", "@\(body.path)", "http://127.0.0.1:\(port)/v1/studies"], in: root)
        #expect(await HTTPTestSupport.eventually { latch.waiting == 1 })
        await group.triggerGracefulShutdown()
        latch.release()
        let answer = try await HTTPTestSupport.finish(inFlight)
        #expect(answer.status == 200)
        #expect(try Safetensors(answer.body).tensors.count == 1)
        // The service ends by itself once its request is answered, and nothing listens any more.
        try await running.value
        let after = try await ChildProcess.run("/usr/bin/curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(port)/healthz"], logs: root)
        #expect(after.status != 0)
    }

    @Test("the committed OpenAPI document is valid OpenAPI 3.1", .enabled(if: PythonPeer.shouldRun), .timeLimit(.minutes(2)))
    func openAPI() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi/hounsfield-daemon.yaml")
        let python = try #require(PythonPeer.python)
        let check = try await ChildProcess.run(python, ["-m", "openapi_spec_validator", document.path], logs: root)
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
    }

    @Test("with TLS the API is served over HTTPS", .timeLimit(.minutes(5)))
    func tls() async throws {
        let root = HTTPTestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let certificate = root.appendingPathComponent("cert.pem"), key = root.appendingPathComponent("key.pem")
        let made = try await ChildProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", certificate.path, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
        ], logs: root)
        #expect(made.status == 0, "\(made.standardError)")
        var options = HTTPOptions()
        options.tls = HTTPOptions.TLS(certificatePath: certificate.path, keyPath: key.path)
        try await HTTPTestSupport.withService(options) { _, base in
            #expect(base.hasPrefix("https://"))
            let answer = try await HTTPTestSupport.curl(["--cacert", certificate.path, "\(base)/healthz"], in: root)
            #expect(answer.status == 200)
        }
    }
}
