/// A fixed share of the work for one of several processes that do not talk to each other (`--shard-index` and
/// `--shard-count`, a Slurm array, a Kubernetes indexed Job). A series belongs to the process whose index its
/// hashed identity falls to, so every process agrees without a coordinator and listing order does not matter.
///
/// A slow or dead process holds its share back and nothing notices: a coordinator (`hounsfield coordinator`) hands
/// out work as processes ask for it instead. The split stays for users who want no coordinator.
public struct StaticSplit: Sendable, Hashable {
    /// This process's part, in `0..<count`.
    public var index: Int
    /// How many processes share the work.
    public var count: Int

    /// One process doing all the work.
    public static let whole = StaticSplit(index: 0, count: 1)

    /// Part `index` of `count`.
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// The split a scheduler describes in the environment, or nil when it describes none: Slurm arrays
    /// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`) or Kubernetes indexed Jobs (`JOB_COMPLETION_INDEX`, with the
    /// count in `HOUNSFIELD_SHARD_COUNT`, since Kubernetes does not pass the completions into the pod). Either part
    /// may be missing: the caller fills it from flags.
    public static func scheduler(environment: [String: String]) -> (index: Int?, count: Int?) {
        let index = environment["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) ?? environment["JOB_COMPLETION_INDEX"].flatMap(Int.init)
        let count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init)
            ?? environment["HOUNSFIELD_SHARD_COUNT"].flatMap(Int.init)
        return (index, count)
    }

    /// Whether the series whose salted identity hash (hex) is `identityHash` belongs to this part.
    public func contains(identityHash: String) -> Bool {
        guard count > 1 else { return true }
        let value = UInt64(identityHash.prefix(15), radix: 16) ?? 0
        return Int(value % UInt64(count)) == index
    }
}
