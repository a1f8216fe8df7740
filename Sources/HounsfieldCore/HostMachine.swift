import Foundation

/// Facts about the machine the process runs on.
package enum HostMachine {
    /// Cores this process may run on. On Linux, Foundation reads the CPU affinity mask, so a Slurm allocation or a
    /// container's cpuset is respected.
    package static var activeProcessorCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
