import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine the process runs on.
package enum HostMachine {
    /// Cores this process may use: the CPUs its affinity mask lets it run on (a Slurm allocation, a container's
    /// cpuset, `taskset`), capped by its cgroup's CPU quota when it has one. Foundation's count alone is every online
    /// core on a cgroup v2 node, whatever the pod's limit or cpuset.
    ///
    /// Why the quota: a Kubernetes pod with `limits.cpu: 4` on a 64-core node sees 64 CPUs but gets 4 cores' worth of
    /// time. Sized for 64, a worker would run 64 decoders in 4 cores' time, each throttled, with 16 times the memory.
    package static var activeProcessorCount: Int {
        let affinity = max(1, min(ProcessInfo.processInfo.activeProcessorCount, affinityCount() ?? .max))
        guard let quota = cpuQuota() else { return affinity }
        return min(affinity, quota)
    }

    /// The CPU quota of the process's cgroup in whole cores (rounded up), or nil when it has none: cgroup v2's
    /// `cpu.max`, else cgroup v1's `cpu.cfs_quota_us` over `cpu.cfs_period_us`.
    static func cpuQuota(root: String = "/sys/fs/cgroup") -> Int? {
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: root + "/" + path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let line = read("cpu.max") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]) else { return nil }
            return cores(quota: quota, period: period)
        }
        if let quota = read("cpu/cpu.cfs_quota_us").flatMap(Double.init),
           let period = read("cpu/cpu.cfs_period_us").flatMap(Double.init)
        {
            return cores(quota: quota, period: period)
        }
        return nil
    }

    /// CPUs in the process's affinity mask, or nil where it cannot be read. `sched_getaffinity` is looked up at run
    /// time: Swift's Glibc module leaves it out (it needs `_GNU_SOURCE`).
    static func affinityCount() -> Int? {
        #if os(Linux)
        guard let address = dlsym(nil, "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(address, to: (@convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32).self)
        var mask = [UInt64](repeating: 0, count: 16)  // 1,024 CPUs, glibc's cpu_set_t
        let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        guard status == 0 else { return nil }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return count > 0 ? count : nil
        #else
        return nil
        #endif
    }

    /// Whole cores for `quota` microseconds of CPU time per `period`; nil for no limit (a negative quota).
    static func cores(quota: Double, period: Double) -> Int? {
        guard quota > 0, period > 0 else { return nil }
        return max(1, Int((quota / period).rounded(.up)))
    }
}
