public import GRPCCore

/// A server interceptor that accepts a call only when it carries the run's shared token as
/// `authorization: Bearer <token>` metadata, and rejects every other call with `unauthenticated` before any service
/// code runs.
///
/// The comparison takes the same time whatever the presented token holds: it reads every byte of the expected
/// token and folds the differences together instead of stopping at the first one, so the time a refusal takes
/// does not tell an attacker how many leading bytes were right. (The length of the expected token is not secret
/// from timing; its bytes are.)
///
/// ```swift
/// let server = GRPCServer(transport: transport, services: [coordinator],
///                         interceptors: [TokenAuthentication(token: token)])
/// // a worker:
/// try await client.session(metadata: TokenAuthentication.metadata(token: token)) { … } onResponse: { … }
/// ```
///
/// An empty token accepts no call: a coordinator without a token does not install this interceptor at all (and
/// then listens on loopback only, unless told `--insecure`).
public struct TokenAuthentication: ServerInterceptor {
    /// The metadata key the token travels under (gRPC metadata keys are lower case).
    public static let metadataKey = "authorization"

    /// The bytes a correct `authorization` value holds: `Bearer <token>` in UTF-8.
    private let expected: [UInt8]
    /// Whether a token was configured at all; with none, every call is refused.
    private let hasToken: Bool

    /// An interceptor that accepts calls carrying `token`.
    public init(token: String) {
        self.expected = Array(Self.headerValue(token: token).utf8)
        self.hasToken = !token.isEmpty
    }

    /// The metadata a client sends so that a server with this interceptor accepts its calls.
    public static func metadata(token: String) -> Metadata {
        var metadata = Metadata()
        metadata.addString(headerValue(token: token), forKey: metadataKey)
        return metadata
    }

    /// Whether `presented` (the whole `authorization` value) is the expected `Bearer <token>`, compared in constant
    /// time for a given expected token.
    public func accepts(_ presented: String) -> Bool {
        hasToken && Self.constantTimeEquals(Array(presented.utf8), expected)
    }

    /// Refuses the call with `unauthenticated` unless it carries exactly one `authorization` value and that value
    /// is the expected one; otherwise hands it on unchanged.
    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (
            _ request: StreamingServerRequest<Input>,
            _ context: ServerContext
        ) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let values = Array(request.metadata[stringValues: Self.metadataKey])
        guard values.count == 1, accepts(values[0]) else {
            // Say nothing about what was wrong (missing, repeated or wrong): that would help a guesser.
            throw RPCError(code: .unauthenticated, message: "missing or wrong token")
        }
        return try await next(request, context)
    }

    /// `Bearer <token>`.
    static func headerValue(token: String) -> String {
        "Bearer \(token)"
    }

    /// Whether `presented` equals `expected`, in a time that depends only on `expected.count`: every byte of
    /// `expected` is read and the differences are OR-ed together, with no early exit. A length mismatch is folded
    /// in as a difference too.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: presented.count ^ expected.count)
        for index in 0..<expected.count {
            let byte = index < presented.count ? presented[index] : 0
            difference |= UInt(byte ^ expected[index])
        }
        return difference == 0
    }
}
