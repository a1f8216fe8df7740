import Foundation
import HTTPTypes
import Hummingbird

/// A request the API refuses or could not serve, answered as JSON `{"error": …, "hint": …}`: what went wrong, and
/// what the client should do about it. `details` lists the particulars (a file and its reason) when there are some.
struct HTTPFailure: Error, HTTPResponseError, CustomStringConvertible {
    /// The response status.
    var status: HTTPResponse.Status
    /// What went wrong, in one sentence.
    var error: String
    /// What to do about it.
    var hint: String
    /// Particulars, one sentence each (the files excluded, the series skipped), or none.
    var details: [String] = []
    /// Headers the answer must carry (`Retry-After`, `WWW-Authenticate`).
    var headers: HTTPFields = [:]

    var description: String { "\(status.code) \(error)" }

    /// The JSON answer.
    var response: Response { answer.response }

    /// The JSON answer, as a value.
    var answer: HTTPAnswer {
        var object: [String: Any] = ["error": error, "hint": hint]
        if !details.isEmpty { object["details"] = details }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"internal error"}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return HTTPAnswer(status: status, headers: fields, body: ByteBuffer(bytes: data))
    }

    /// Hummingbird's hook, for failures thrown by middleware.
    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}
