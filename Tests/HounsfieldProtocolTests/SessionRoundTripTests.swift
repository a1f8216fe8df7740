import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HounsfieldProtocol
import Testing

typealias WorkerMessage = Hounsfield_Distributed_V1_WorkerMessage
typealias CoordinatorMessage = Hounsfield_Distributed_V1_CoordinatorMessage
typealias Coordinator = Hounsfield_Distributed_V1_Coordinator

/// A coordinator reduced to the protocol: welcomes every Hello and refuses every unit (it has none).
struct RefusingCoordinator: Coordinator.SimpleServiceProtocol {
    func session(
        request: RPCAsyncSequence<WorkerMessage, any Error>,
        response: RPCWriter<CoordinatorMessage>,
        context: ServerContext
    ) async throws {
        for try await message in request {
            switch message.kind {
            case .hello:
                try await response.write(.with {
                    $0.welcome = .with {
                        $0.configurationJson = Data(#"{"configuration_key":"test"}"#.utf8)
                        $0.outputFolder = "/data/out"
                        $0.heartbeatIntervalMs = 20_000
                        $0.leaseTtlMs = 60_000
                    }
                })
            case .complete(let complete):
                try await response.write(.with {
                    $0.refused = .with {
                        $0.reason = .unknownUnit
                        $0.unitID = complete.unitID
                        $0.epoch = complete.epoch
                        $0.detail = "no unit \(complete.unitID) in this run"
                    }
                })
            case .heartbeat, .fail, .none:
                break
            }
        }
    }
}

/// Bounds are generous: the whole suite runs in parallel on two cores, so a round trip that takes 0.1 s alone may
/// wait minutes for a thread.
/// Runs `body` with a gRPC server on 127.0.0.1 (a port the system picks) serving `RefusingCoordinator` behind
/// `TokenAuthentication(token: token)`, and a client connected to it; the server shuts down when `body` returns.
/// The whole of it must finish within `seconds`.
func withLoopbackCoordinator<Result: Sendable>(
    token: String, seconds: Int = 300,
    _ body: @escaping @Sendable (Coordinator.Client<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    try await withDeadline(seconds: seconds) {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        return try await withGRPCServer(
            transport: transport, services: [RefusingCoordinator()],
            interceptors: [TokenAuthentication(token: token)]
        ) { _ in
            let address = try await transport.listeningAddress
            let port = try #require(address.ipv4?.port)
            return try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                try await body(Coordinator.Client(wrapping: client))
            }
        }
    }
}

/// Fails with a clear error unless `body` finishes within `seconds` (it is cancelled then).
func withDeadline<Result: Sendable>(
    seconds: Int, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw DeadlineExceeded(seconds: seconds)
        }
        return result
    }
}

/// `withDeadline` ran out of time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    let seconds: Int
    var description: String { "did not finish within \(seconds) s" }
}

/// Call options that bound one RPC in time.
func bounded(seconds: Int) -> CallOptions {
    var options = CallOptions.defaults
    options.timeout = .seconds(seconds)
    return options
}

@Suite("Coordinator protocol over loopback gRPC")
struct SessionRoundTripTests {
    @Test("Hello → Welcome, Complete for an unknown unit → Refused, then the session closes cleanly",
          .timeLimit(.minutes(10)))
    func helloWelcomeCompleteRefused() async throws {
        let token = "s3cret-token"
        let replies = try await withLoopbackCoordinator(token: token) { coordinator in
            // Each reply is handed from the response side to the request side, so the worker sends Complete only
            // after its Welcome and closes its side only after the Refused.
            let (received, inbox) = AsyncStream.makeStream(of: CoordinatorMessage.self)
            return try await coordinator.session(
                metadata: TokenAuthentication.metadata(token: token), options: bounded(seconds: 240)
            ) { writer in
                var next = received.makeAsyncIterator()
                try await writer.write(.with {
                    $0.hello = .with {
                        $0.workerName = "worker-0"
                        $0.capacity = 2
                        $0.memoryBytes = 8 << 30
                        $0.softwareVersion = "hounsfield test"
                    }
                })
                guard case .welcome? = await next.next()?.kind else { return }
                try await writer.write(.with {
                    $0.complete = .with {
                        $0.unitID = 42
                        $0.epoch = 3
                        $0.outcomes = [.with {
                            $0.key = "k1"
                            $0.status = "written"
                            $0.shard = "shard-worker-0-00000.h5"
                            $0.checksum = "sha256:00"
                        }]
                        $0.publishedShards = ["shard-worker-0-00000.h5"]
                    }
                })
                _ = await next.next()  // the Refused; returning then closes the worker's side
            } onResponse: { response in
                var messages: [CoordinatorMessage] = []
                for try await message in response.messages {
                    messages.append(message)
                    inbox.yield(message)
                }
                inbox.finish()
                return messages
            }
        }

        #expect(replies.count == 2)
        let welcome = try #require(replies.first?.welcome)
        #expect(welcome.outputFolder == "/data/out")
        #expect(welcome.leaseTtlMs == 60_000)
        #expect(String(decoding: welcome.configurationJson, as: UTF8.self).contains("configuration_key"))
        guard case .refused(let refused)? = replies.last?.kind else {
            Issue.record("expected Refused, got \(String(describing: replies.last))")
            return
        }
        #expect(refused.reason == .unknownUnit)
        #expect(refused.unitID == 42)
        #expect(refused.epoch == 3)
    }

    @Test("A call without the right token is refused with unauthenticated", .timeLimit(.minutes(10)),
          arguments: [nil, "Bearer wrong-token", "Bearer s3cret-toke", "Bearer s3cret-token2", "s3cret-token"])
    func wrongTokenIsUnauthenticated(presented: String?) async throws {
        let code = try await withLoopbackCoordinator(token: "s3cret-token") { coordinator -> RPCError.Code? in
            var metadata = Metadata()
            if let presented { metadata.addString(presented, forKey: "authorization") }
            do {
                try await coordinator.session(metadata: metadata, options: bounded(seconds: 240)) { writer in
                    try? await writer.write(.with { $0.hello = .with { $0.workerName = "intruder" } })
                } onResponse: { response in
                    for try await _ in response.messages {}
                }
                return nil
            } catch let error as RPCError {
                return error.code
            }
        }
        #expect(code == .unauthenticated)
    }

    @Test("The token comparison: equal only for the exact bytes, whatever the lengths")
    func tokenComparison() {
        let authentication = TokenAuthentication(token: "abc")
        #expect(authentication.accepts("Bearer abc"))
        #expect(!authentication.accepts("Bearer abd"))
        #expect(!authentication.accepts("Bearer ab"))
        #expect(!authentication.accepts("Bearer abcd"))
        #expect(!authentication.accepts(""))
        #expect(!TokenAuthentication(token: "").accepts("Bearer "))
    }
}
