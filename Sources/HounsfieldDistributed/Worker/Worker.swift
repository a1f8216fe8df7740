import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HounsfieldCore
import HounsfieldProtocol
import Logging
import ServiceLifecycle
import Synchronization

/// `hounsfield worker`: takes units from a coordinator and runs them through the same pipeline as `hounsfield run`,
/// writing shards into the shared output folder under its own name.
///
/// It needs only the coordinator's address (and the token): the configuration and the output folder come in the
/// coordinator's Welcome. A lost coordinator is retried with backoff (1 s doubling to 15 s) until
/// ``WorkerOptions/giveUpAfter`` (10 minutes); units held when a session breaks are abandoned (their leases expire
/// and go to other workers), which costs at most one TTL of their time.
///
/// **Stopping.** On graceful shutdown (SIGTERM, Kubernetes preemption, Slurm's `--signal`), the worker takes no new
/// unit, finishes the series in flight, publishes its shard, reports the units it finished and hands the others
/// back (they do not count against them), and returns. It returns too when the coordinator says drain.
public final class Worker: Service, Sendable {
    /// How the worker's run ended.
    public enum Ending: Sendable, Equatable {
        /// The coordinator said the run is over.
        case drained
        /// A graceful shutdown (a signal) stopped it.
        case stopped
    }

    private let options: WorkerOptions
    private let logger: Logger
    private let endingBox = Mutex<Ending?>(nil)

    /// How ``run()`` ended, once it returned without throwing.
    public var ending: Ending? { endingBox.withLock { $0 } }

    /// A worker; nothing is connected before ``run()``.
    public init(options: WorkerOptions, logger: Logger = Logger(label: "hounsfield.worker")) {
        self.options = options
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.name)"
        self.logger = logger
    }

    /// Connects, works and reconnects until the coordinator drains the worker or a graceful shutdown stops it
    /// (``ending`` then says which). Throws ``WorkerError`` when the coordinator stays unreachable, rejects the
    /// token, or sends a configuration that cannot run here.
    public func run() async throws {
        var backoff = Duration.seconds(1)
        var lastContact = ContinuousClock.now
        // Ten minutes by default, before the first Welcome and after: a coordinator restarted by its scheduler
        // (evicted, preempted, requeued) must find its workers still there.
        let giveUpAfter = options.giveUpAfter ?? .seconds(600)
        while !Task.isCancelled {
            let session = WorkerSessionRun(options: options, logger: logger)
            let ending: WorkerSessionRun.Ending
            do {
                ending = try await session.run()
            } catch let error as RPCError where error.code == .unauthenticated {
                throw WorkerError.unauthenticated(options.coordinator)
            } catch let error as RPCError where error.code == .alreadyExists {
                ending = .lost("the name '\(options.name)' is held by a live session (another worker with this name, or this one's previous life not yet noticed gone)")
            } catch let error as WorkerError {
                throw error
            } catch {
                ending = .lost(String(describing: error))
            }
            switch ending {
            case .drained:
                logger.notice("the coordinator drained this worker: done")
                endingBox.withLock { $0 = .drained }
                return
            case .stopped:
                logger.notice("stopped: finished units reported, the others handed back")
                endingBox.withLock { $0 = .stopped }
                return
            case .lost(let reason):
                if session.welcomedTTL != nil {
                    lastContact = .now
                    backoff = .seconds(1)
                }
                let since = ContinuousClock.now - lastContact
                if since >= giveUpAfter {
                    throw WorkerError.coordinatorUnreachable(options.coordinator, since: since, lastError: reason)
                }
                if Task.isShuttingDownGracefully {
                    endingBox.withLock { $0 = .stopped }
                    return
                }
                logger.warning("lost the coordinator; retrying", metadata: ["in": "\(backoff)", "error": "\(reason)"])
                try? await Task.sleep(for: backoff)
                if Task.isShuttingDownGracefully {
                    endingBox.withLock { $0 = .stopped }
                    return
                }
                backoff = min(backoff * 2, .seconds(15))
            }
        }
    }
}
