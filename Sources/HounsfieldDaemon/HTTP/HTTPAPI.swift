import HTTPTypes
import Hummingbird
import Prometheus

/// The routes of the daemon's HTTP API, as one Hummingbird responder:
///
/// | route | answer | token |
/// |---|---|---|
/// | `POST /v1/studies` | the study's volumes as safetensors (``StudyEndpoint``); 404 when studies are off | when one is set |
/// | `GET /healthz` | 200 while the process runs | never |
/// | `GET /readyz` | 200 while ``Readiness`` says ready, else 503 | never |
/// | `GET /metrics` | the Prometheus registry as text (404 without one) | never |
///
/// The probes and the metrics carry no token: probes and scrapers are configured without secrets, and these answer
/// with states and counts only, never identifiers or voxels (bind the daemon to an address only they reach, or keep
/// `/metrics` off by giving no registry). Every answer is counted in `hounsfield_http_requests_total`.
struct HTTPAPI: HTTPResponder {
    typealias Context = BasicRequestContext

    /// Nil when the daemon serves no studies over HTTP (``HTTPOptions/servesStudies``).
    let studies: StudyEndpoint?
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry?
    let token: BearerToken?
    let metrics: HTTPMetrics

    func respond(to request: Request, context: Context) async throws -> Response {
        let (endpoint, response) = await route(request)
        metrics.answered(endpoint: endpoint, status: response.status.code)
        return response
    }

    /// The endpoint's label (bounded: unknown paths are `other`) and its answer.
    private func route(_ request: Request) async -> (String, Response) {
        let path = request.uri.path
        switch (path, request.method) {
        case ("/v1/studies", .post):
            guard let studies else {
                return (path, HTTPFailure(status: .notFound, error: "this daemon takes no studies over HTTP",
                                          hint: "send them to its DICOM receiver or watch folder, or start it with serve.http.studies true").response)
            }
            if let refusal = token?.refusal(of: request.headers[.authorization]) { return (path, refusal.response) }
            return (path, await studies.respond(to: request))
        case ("/healthz", .get), ("/healthz", .head):
            return (path, text(.ok, "ok\n"))
        case ("/readyz", .get), ("/readyz", .head):
            return (path, readiness.isReady ? text(.ok, "ready\n") : text(.serviceUnavailable, "not ready: starting or draining\n"))
        case ("/metrics", .get):
            guard let registry else {
                return (path, HTTPFailure(status: .notFound, error: "this daemon serves no metrics",
                                          hint: "start it with a Prometheus registry (hounsfield serve's metrics option)").response)
            }
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            var headers: HTTPFields = [.contentType: "text/plain; version=0.0.4; charset=utf-8"]
            headers[.cacheControl] = "no-store"
            return (path, Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))))
        case ("/v1/studies", _), ("/healthz", _), ("/readyz", _), ("/metrics", _):
            let allowed = path == "/v1/studies" ? "POST" : path == "/metrics" ? "GET" : "GET, HEAD"
            var failure = HTTPFailure(status: .methodNotAllowed, error: "\(request.method) is not served at \(path)",
                                      hint: "use \(allowed) \(path)")
            failure.headers[.allow] = allowed
            return (path, failure.response)
        default:
            return ("other", HTTPFailure(status: .notFound, error: "nothing is served at \(path)",
                                         hint: "POST a study to /v1/studies; GET /healthz, /readyz or /metrics (docs/openapi/hounsfield-daemon.yaml)").response)
        }
    }

    private func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
