import HounsfieldDICOM
import Logging

/// When a series is tried again: after a failure to read a file (a network file system that hiccups), up to
/// `retries` more times, with a pause that grows with each try. Anything else — a corrupt file, a transform error,
/// a cancellation — fails at once, since trying again would fail the same way.
struct RetryPolicy: Sendable {
    /// Tries after the first (`execution.retries`).
    var retries: Int
    /// The pause before try n + 1 is n times this.
    var pause: Duration = .milliseconds(200)

    /// Runs `work`, again after an unreadable file while tries are left; `attempts` counts the tries made.
    func run<Value>(
        key: String, attempts: inout Int, metrics: PipelineMetrics, logger: Logger, _ work: () async throws -> Value
    ) async throws -> Value {
        var attempt = 0
        while true {
            attempt += 1
            attempts = attempt
            do {
                return try await work()
            } catch let error as DICOMError {
                guard case .unreadable = error, attempt <= retries, !Task.isCancelled else { throw error }
                metrics.retries.increment()
                logger.warning("retrying a series after an I/O error", metadata: ["key": "\(key)", "error": "\(error)"])
                try? await Task.sleep(for: pause * attempt)
            }
        }
    }
}
