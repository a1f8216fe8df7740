import Foundation
import GRPCCore
import HounsfieldHDF5
import HounsfieldProtocol
import Logging

/// The coordinator's side of the protocol: one ``WorkerSession`` per stream. The token was checked by
/// `TokenAuthentication` before this runs.
///
/// Each stream has three tasks: the reader (the worker's messages, handled in order), a ticker (tops the worker's
/// leases up when units become pending, e.g. when another worker's lease expired) and the writer (the only one that
/// writes to the stream, draining the session's outbox).
struct SessionService: CoordinatorRPC.SimpleServiceProtocol {
    let context: CoordinatorContext
    let registry: SessionRegistry
    /// Whether the run is over or stopping: new sessions are drained at once.
    let isDraining: @Sendable () -> Bool

    func session(
        request: RPCAsyncSequence<WorkerMessage, any Error>,
        response: RPCWriter<CoordinatorMessage>,
        context serverContext: ServerContext
    ) async throws {
        var messages = request.makeAsyncIterator()
        guard let first = try await messages.next(), case .hello(let hello)? = first.kind else {
            throw RPCError(code: .invalidArgument, message: "a session starts with Hello")
        }
        guard OutputFolder.isValidWorker(hello.workerName) else {
            throw RPCError(code: .invalidArgument, message: "worker name '\(hello.workerName)' is invalid: use letters, digits, '_' and '.', at most 64")
        }
        guard registry.claim(hello.workerName) else {
            context.logger.warning("refused a second live session for a worker name", metadata: ["worker": "\(hello.workerName)"])
            throw RPCError(code: .alreadyExists, message: "a live session already holds the worker name '\(hello.workerName)'; names must be unique in a run")
        }
        defer { registry.release(hello.workerName) }
        if !hello.configurationKey.isEmpty, hello.configurationKey != context.configurationKey {
            try await response.write(.with {
                $0.refused = .with {
                    $0.reason = .wrongConfiguration
                    $0.detail = "this run's configuration key is \(context.configurationKey.prefix(12))…, the worker's \(hello.configurationKey.prefix(12))…: start the worker without a configuration of its own"
                }
            })
            return
        }
        try await response.write(.with {
            $0.welcome = .with {
                $0.configurationJson = context.configurationJSON
                $0.outputFolder = context.outputFolder
                $0.heartbeatIntervalMs = UInt32((context.heartbeatInterval.inSeconds * 1000).rounded())
                $0.leaseTtlMs = UInt32((context.leaseTTL.inSeconds * 1000).rounded())
            }
        })
        let (outbox, continuation) = AsyncStream.makeStream(of: CoordinatorMessage.self)
        let session = WorkerSession(name: hello.workerName, capacity: Int(hello.capacity), context: context,
                                    outbox: continuation)
        registry.add(session)
        context.metrics.sessions(registry.count)
        context.logger.info("worker connected", metadata: [
            "worker": "\(hello.workerName)", "capacity": "\(hello.capacity)", "version": "\(hello.softwareVersion)"])
        defer {
            registry.remove(session)
            context.metrics.sessions(registry.count)
        }
        if isDraining() { await session.drain(reason: "the run is over") } else { await session.topUp() }

        let tick = min(Duration.seconds(1), context.leaseTTL / 10)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in outbox { try await response.write(message) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: tick)
                    await session.topUp()
                }
            }
            do {
                while let message = try await messages.next() {
                    switch message.kind {
                    case .heartbeat(let beat): await session.heartbeat(beat)
                    case .complete(let complete): await session.complete(complete)
                    case .fail(let fail): await session.fail(fail)
                    case .hello, .none: break
                    }
                }
                context.logger.info("worker hung up", metadata: ["worker": "\(hello.workerName)"])
            } catch {
                context.logger.notice("worker session ended", metadata: ["worker": "\(hello.workerName)", "error": "\(error)"])
            }
            await session.ended()
            continuation.finish()
            group.cancelAll()
        }
    }
}
