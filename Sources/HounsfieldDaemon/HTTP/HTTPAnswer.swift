import HTTPTypes
import Hummingbird
import NIOCore

/// A complete answer: what the study endpoint builds, and what the idempotency cache keeps and replays (its body is
/// shared, never copied).
struct HTTPAnswer: Sendable {
    /// What follows the headers.
    enum Body: Sendable {
        /// One buffer (JSON refusals, small answers).
        case buffer(ByteBuffer)
        /// A study's volumes, written a piece at a time from their own memory.
        case safetensors(SafetensorsAnswer)
    }

    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Body

    init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = .buffer(body)
    }

    init(status: HTTPResponse.Status, headers: HTTPFields, safetensors: SafetensorsAnswer) {
        self.status = status
        self.headers = headers
        self.body = .safetensors(safetensors)
    }

    /// The body's length in bytes.
    var byteCount: Int {
        switch body {
        case .buffer(let buffer): buffer.readableBytes
        case .safetensors(let answer): answer.byteCount
        }
    }

    /// The answer as Hummingbird sends it.
    var response: Response {
        switch body {
        case .buffer(let buffer):
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
        case .safetensors(let answer):
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: answer.byteCount) { writer in
                try await answer.write(to: &writer)
                try await writer.finish(nil)
            })
        }
    }
}
