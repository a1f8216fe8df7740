import Hounsfield
import Synchronization

/// The live view of an inspection on standard error: a progress line for the headers, then one for decoding.
final class InspectionDisplay: Sendable {
    private let current = Mutex<(phase: InspectionProgress.Phase, line: ProgressLine)?>(
        (.headers, ProgressLine(label: InspectionDisplay.label(.headers))))

    /// Shows `progress`, ending the previous phase's line when a new phase starts; safe to call from any thread.
    @Sendable func update(_ progress: InspectionProgress) {
        current.withLock { current in
            if current?.phase != progress.phase {
                current?.line.finish()
                current = (progress.phase, ProgressLine(label: Self.label(progress.phase)))
            }
            current?.line.update(progress.done, progress.total)
        }
    }

    /// Ends the line of the phase in progress.
    func finish() {
        current.withLock { current in
            current?.line.finish()
            current = nil
        }
    }

    private static func label(_ phase: InspectionProgress.Phase) -> String {
        switch phase {
        case .headers: "reading headers"
        case .decoding: "decoding series"
        }
    }
}
