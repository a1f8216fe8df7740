#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process inherits the signal mask of the thread that started it, and a parent may start it from a thread that
/// blocks SIGTERM and SIGINT (any Dispatch worker thread does, and so does many a launcher): then a scheduler's
/// SIGTERM (Kubernetes preemption, Slurm's `--signal`, `kill`) stays pending for ever and the run never stops
/// gracefully. So the tool unblocks both on its main thread before any other thread exists; every thread made
/// later inherits that mask, and the `ServiceGroup` receives the signals.
enum TerminationSignals {
    static func unblock() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}
