import HTTPTypes
import Hummingbird
import NIOCore

/// A complete answer whose body is one buffer: what the study endpoint builds, and what the idempotency cache keeps
/// and replays (the buffer is shared, never copied).
struct HTTPAnswer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    /// The answer as Hummingbird sends it.
    var response: Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
