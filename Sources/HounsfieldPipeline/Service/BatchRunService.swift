import ServiceLifecycle
import Synchronization

/// A ``BatchRun`` as a `Service`, so a `ServiceGroup` runs it: SIGTERM or SIGINT become a graceful shutdown (the
/// series in flight finish, the open shard is published, the report is written), and the group's shutdown deadline
/// escalates to cancellation. The command-line tool runs `hounsfield run` this way; the report is read afterwards.
public final class BatchRunService: Service, Sendable {
    /// The run.
    public let batch: BatchRun
    /// Only plan (`--dry-run`).
    public let dryRun: Bool
    private let onGracefulShutdown: @Sendable () -> Void
    private let outcome = Mutex<Result<RunReport, RunError>?>(nil)

    /// A service for `batch`. `onGracefulShutdown` is called (from any thread) when a shutdown begins, to tell the
    /// user what is happening.
    public init(_ batch: BatchRun, dryRun: Bool = false, onGracefulShutdown: @escaping @Sendable () -> Void = {}) {
        self.batch = batch
        self.dryRun = dryRun
        self.onGracefulShutdown = onGracefulShutdown
    }

    /// Runs the batch to its end (or to a shutdown) and keeps the report; never throws: read ``result``.
    public func run() async throws {
        let (batch, dryRun) = (self.batch, self.dryRun)
        let result = await withGracefulShutdownHandler {
            do throws(RunError) { return Result<RunReport, RunError>.success(try await batch.run(dryRun: dryRun)) } catch {
                return .failure(error)
            }
        } onGracefulShutdown: { [onGracefulShutdown] in
            onGracefulShutdown()
        }
        outcome.withLock { $0 = result }
    }

    /// The report, or why the run could not start; nil before ``run()`` has returned.
    public var result: Result<RunReport, RunError>? { outcome.withLock { $0 } }
}
