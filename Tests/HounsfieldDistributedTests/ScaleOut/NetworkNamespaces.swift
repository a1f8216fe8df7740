import Foundation
import HounsfieldTestSupport

/// Two network namespaces joined by a veth pair, made by the test and removed after it: the coordinator in one,
/// workers in the other, so their traffic crosses a real interface (not loopback) and nothing outside the test can
/// reach either side. Needs root and iproute2's `ip`; ``make()`` returns nil when the machine cannot.
struct NetworkNamespaces {
    let coordinatorSide: String
    let workerSide: String
    /// The coordinator side's address on the link.
    let coordinatorAddress = "10.231.7.1"

    static let ip = "/usr/sbin/ip"

    /// Creates the pair (names unique to this process), or nil when `ip netns` is unavailable.
    static func make() async -> NetworkNamespaces? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip) else { return nil }
        let suffix = "\(getpid() % 100_000)"
        let pair = NetworkNamespaces(coordinatorSide: "hfc\(suffix)", workerSide: "hfw\(suffix)")
        let steps: [[String]] = [
            ["netns", "add", pair.coordinatorSide],
            ["netns", "add", pair.workerSide],
            ["link", "add", "hfc\(suffix)v", "type", "veth", "peer", "name", "hfw\(suffix)v"],
            ["link", "set", "hfc\(suffix)v", "netns", pair.coordinatorSide],
            ["link", "set", "hfw\(suffix)v", "netns", pair.workerSide],
            ["-n", pair.coordinatorSide, "addr", "add", "\(pair.coordinatorAddress)/24", "dev", "hfc\(suffix)v"],
            ["-n", pair.workerSide, "addr", "add", "10.231.7.2/24", "dev", "hfw\(suffix)v"],
            ["-n", pair.coordinatorSide, "link", "set", "hfc\(suffix)v", "up"],
            ["-n", pair.workerSide, "link", "set", "hfw\(suffix)v", "up"],
            ["-n", pair.coordinatorSide, "link", "set", "lo", "up"],
            ["-n", pair.workerSide, "link", "set", "lo", "up"],
        ]
        for step in steps {
            guard let finished = try? await ChildProcess.run(ip, step, logs: FileManager.default.temporaryDirectory),
                  finished.status == 0 else {
                await pair.remove()
                return nil
            }
        }
        return pair
    }

    /// Deletes both namespaces (and with them the veth pair).
    func remove() async {
        for namespace in [coordinatorSide, workerSide] {
            _ = try? await ChildProcess.run(Self.ip, ["netns", "delete", namespace], logs: FileManager.default.temporaryDirectory)
        }
    }
}
