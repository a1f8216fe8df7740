import Foundation
import Synchronization

/// A one-line progress display on standard error: redrawn in place on a terminal, a line every few seconds
/// otherwise (logs of batch jobs), and nothing for work that ends within half a second.
final class ProgressLine: Sendable {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let start = ContinuousClock.now
    private let state = Mutex<(shown: Bool, lastPrint: ContinuousClock.Instant)>((false, .now))

    init(label: String) { self.label = label }

    /// Reports `done` of `total` items; safe to call from any thread.
    @Sendable func update(_ done: Int, _ total: Int) {
        let now = ContinuousClock.now
        guard now - start > .milliseconds(500) else { return }
        state.withLock { state in
            let interval: Duration = isTerminal ? .milliseconds(100) : .seconds(5)
            guard now - state.lastPrint >= interval || done == total else { return }
            state.lastPrint = now
            state.shown = true
            let seconds = (now - start).inSeconds
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let line = String(format: "%@: %d/%d (%.0f/s)", label, done, total, rate)
            FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + (isTerminal ? "" : "\n")).utf8))
        }
    }

    /// Ends the line (on a terminal) if anything was shown.
    func finish() {
        state.withLock { state in
            if state.shown && isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}
