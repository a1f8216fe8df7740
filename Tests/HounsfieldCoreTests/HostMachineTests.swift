import Foundation
@testable import HounsfieldCore
import Testing

/// Cores are the container's CPU quota when it has one, not the node's CPUs.
@Suite("Cores the process may use")
struct HostMachineTests {
    @Test("cgroup v2 cpu.max: a quota rounds up to whole cores; max is no limit")
    func cgroupV2() throws {
        let root = try Self.folder(["cpu.max": "150000 100000\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(HostMachine.cpuQuota(root: root) == 2)
        try "max 100000\n".write(toFile: root + "/cpu.max", atomically: true, encoding: .utf8)
        #expect(HostMachine.cpuQuota(root: root) == nil)
        try "50000 100000\n".write(toFile: root + "/cpu.max", atomically: true, encoding: .utf8)
        #expect(HostMachine.cpuQuota(root: root) == 1)
    }

    @Test("cgroup v1 quota and period; -1 is no limit; no cgroup files, no limit")
    func cgroupV1() throws {
        let root = try Self.folder(["cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(HostMachine.cpuQuota(root: root) == 4)
        try "-1\n".write(toFile: root + "/cpu/cpu.cfs_quota_us", atomically: true, encoding: .utf8)
        #expect(HostMachine.cpuQuota(root: root) == nil)
        #expect(HostMachine.cpuQuota(root: root + "/missing") == nil)
        #expect(HostMachine.activeProcessorCount >= 1)
        #expect(HostMachine.affinityCount().map { $0 >= 1 } ?? true)
    }

    static func folder(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)").path
        for (name, text) in files {
            let path = root + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return root
    }
}
