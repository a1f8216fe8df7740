import ServiceLifecycle
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The signals that stop the tool gracefully (SIGTERM from Kubernetes or `kill`, SIGINT from Ctrl-C, SIGUSR1 from
/// Slurm's `--signal`), delivered whichever thread the kernel gives them to.
///
/// Why not the `ServiceGroup`'s own signal handling: it uses Dispatch signal sources, which on Linux read a
/// signalfd and rely on the signal being blocked in every thread. It is not. Dispatch parks the main thread in
/// `sigsuspend` with nothing blocked, and its handler forwards a signal caught there to the thread that registered
/// the source: a pool thread, which may have exited or moved on by then. The signal is then lost and the run goes
/// on to its end as if nobody had asked it to stop. Here a handler writes the signal's number to a pipe, which is
/// safe in any thread, and a thread of its own reads the pipe. Decision 47 in docs/decisions.md.
enum TerminationSignals {
    /// A process inherits the signal mask of the thread that started it, and a parent may start it from a thread
    /// that blocks SIGTERM and SIGINT (any Dispatch worker thread does, and so does many a launcher). So the tool
    /// unblocks them on its main thread before any other thread exists; threads made later inherit that mask.
    static func unblock() {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGTERM, SIGINT, SIGUSR1] { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Installs the handler for `signals` and returns them as they arrive, in order. Call it once per process:
    /// the stream has one reader.
    static func install(_ signals: [Int32]) -> AsyncStream<Int32> {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { fatalError("cannot make the pipe for termination signals: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        signalPipe = ends[1]
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let readEnd = ends[0]
        let reader = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 {
                    continuation.yield(Int32(byte))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    continuation.finish()
                    return
                }
            }
        }
        reader.name = "termination-signals"
        reader.start()
        for signal in signals {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = forwardSignal
            #else
            action.__sigaction_u.__sa_handler = forwardSignal
            #endif
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
        return stream
    }
}

/// The pipe's write end. Safe without isolation: it is written once, in `install`, before any handler that reads
/// it is installed (`sigaction` orders the two), and only read afterwards.
nonisolated(unsafe) private var signalPipe: Int32 = -1

/// The handler: one `write(2)`, which is async-signal-safe; `errno` is restored for the interrupted code. A full
/// pipe drops the byte, which loses nothing: a graceful shutdown already pending is not made more so.
private func forwardSignal(_ signal: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipe, &byte, 1)
    errno = saved
}

extension ServiceGroup {
    /// Runs the group, and starts its graceful shutdown on each of `signals` (see ``TerminationSignals``; the
    /// group's own `gracefulShutdownSignals` are left empty).
    func run(stoppingOn signals: [Int32]) async throws {
        let received = TerminationSignals.install(signals)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in received { await self.triggerGracefulShutdown() }
            }
            defer { tasks.cancelAll() }
            try await self.run()
        }
    }
}
