import ArgumentParser
import Logging

/// `--log-level`, shared by every subcommand. Logs go to standard error, so `--json` output stays clean.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error, critical (default: warning; notice for the coordinator and workers).")
    var logLevel: Logger.Level?

    /// Sends logs to standard error at `--log-level`, or at `minimum` when it is not given (long-running processes
    /// say what they do at `notice`).
    func bootstrap(minimum: Logger.Level = .warning) {
        let level = logLevel ?? minimum
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
