import Crypto
import HTTPTypes
import Hummingbird

/// Reads a request body into one array: reserved from `Content-Length` (so a 150 MB upload is copied once, never
/// regrown), refused with 413 as soon as it passes the limit, and hashed (SHA-256) as it arrives when an
/// `Idempotency-Key` needs the digest, so the hash overlaps the upload instead of following it.
enum BodyCollector {
    /// The body's bytes, and their digest when `hashing`.
    static func collect(_ body: RequestBody, expectedLength: Int?, limit: Int, hashing: Bool,
                        received: (Int) -> Void) async throws -> (bytes: [UInt8], digest: [UInt8]?) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(0, min(expectedLength ?? 1 << 20, limit)))
        var hasher = hashing ? SHA256() : nil
        for try await chunk in body {
            guard bytes.count + chunk.readableBytes <= limit else { throw tooLarge(limit: limit) }
            chunk.withUnsafeReadableBytes { raw in
                bytes.append(contentsOf: raw)
                hasher?.update(bufferPointer: raw)
            }
            received(chunk.readableBytes)
        }
        return (bytes, hasher.map { Array($0.finalize()) })
    }

    /// The 413 for a body over `limit` bytes.
    static func tooLarge(limit: Int) -> HTTPFailure {
        HTTPFailure(status: .contentTooLarge, error: "the body is larger than this daemon takes (\(limit) bytes)",
                    hint: "send one study per request; a larger study needs the daemon's HTTP body limit raised (hounsfield serve's max body option)",
                    headers: [.connection: "close"])
    }
}
