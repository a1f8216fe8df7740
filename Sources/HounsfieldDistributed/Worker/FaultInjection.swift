import Foundation
import Logging

/// Faults the scale-out tests inject into real worker processes, switched on only by environment variables that
/// nothing but the tests set. `HOUNSFIELD_FAULT_ABORT_ON=TEXT` makes a worker abort (SIGABRT, as a crash in a
/// decoder would) when it is assigned a unit whose folder path contains `TEXT`: the "poison unit" that must end
/// quarantined after taking down three workers.
enum FaultInjection {
    static func checkAssignment(path: String, logger: Logger) {
        guard let poison = ProcessInfo.processInfo.environment["HOUNSFIELD_FAULT_ABORT_ON"], !poison.isEmpty,
              path.contains(poison) else { return }
        logger.critical("fault injection: aborting on an assigned unit", metadata: ["path": "\(path)"])
        abort()
    }
}
