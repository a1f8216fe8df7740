import Crypto
import Foundation
import HTTPTypes

/// The check of `Authorization: Bearer TOKEN` (RFC 6750). The sent and the expected token are compared through
/// their SHA-256 digests, byte by byte without an early exit, so the time taken says nothing about how much of a
/// guess was right, nor about the token's length.
struct BearerToken: Sendable {
    private let digest: [UInt8]

    /// Checks requests against `token`.
    init(_ token: String) {
        digest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Nil when `authorization` carries the token; else the 401 to answer.
    func refusal(of authorization: String?) -> HTTPFailure? {
        guard let authorization else {
            return failure("no Authorization header was sent", error: nil)
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return failure("the Authorization header is not a Bearer token", error: "invalid_request")
        }
        let sent = Array(SHA256.hash(data: Data(parts[1].trimmingCharacters(in: .whitespaces).utf8)))
        var difference: UInt8 = 0
        for index in 0..<digest.count { difference |= digest[index] ^ sent[index] }
        return difference == 0 ? nil : failure("the bearer token is not the daemon's", error: "invalid_token")
    }

    private func failure(_ what: String, error: String?) -> HTTPFailure {
        var challenge = #"Bearer realm="hounsfield""#
        if let error { challenge += #", error="\#(error)""# }
        return HTTPFailure(status: .unauthorized, error: what,
                           hint: "send Authorization: Bearer TOKEN with the token the daemon was started with (hounsfield serve's HTTP token option)",
                           headers: [.wwwAuthenticate: challenge])
    }
}
