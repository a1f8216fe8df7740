import HounsfieldCore

/// How a `ShardWriter` lays out, compresses, rotates and names its shards.
public struct ShardWriterOptions: Sendable, Hashable {
    /// The chunk codec (default: shuffle + gzip 1).
    public var compression: ShardCompression
    /// The chunk shape (default: slabs of about 4 MiB).
    public var chunks: ChunkLayout
    /// A shard is closed once it holds this many compressed bytes (a volume is never split, so a shard can exceed it
    /// by one volume).
    public var maxShardBytes: Int
    /// A shard is closed once it holds this many volumes.
    public var maxVolumesPerShard: Int
    /// The worker name that keeps this writer's shard and manifest names apart from other processes writing to the
    /// same folder; nil for a single writer.
    public var worker: String?
    /// Continue an earlier run in this folder: skip published volumes, recover manifest lines of shards published
    /// just before a crash, delete this worker's half-written `.partial` files. Without it, a folder that already
    /// holds this worker's shards is an error.
    public var resume: Bool
    /// QC previews, or nil for none. The manifest then lists each volume's preview (`previews/KEY.jpg`); drawing
    /// them is ``PreviewWriter``'s work, so a slow or failing preview never holds a shard back.
    public var previews: PreviewOptions?
    /// Threads that compress chunks.
    public var concurrency: Int
    /// Whether a coordinator decides what the folder holds (a worker of `hounsfield coordinator`). Then the
    /// folder's `manifest.jsonl` is the coordinator's and lists only what it accepted: this writer keeps its own
    /// lines apart, in ``OutputFolder/workerLedgerFolder`` (where readers never look), always resumes, counts as
    /// published only what `manifest.jsonl` lists, and recovers nothing from unlisted shards — a shard whose
    /// completion the coordinator refused (a stale lease) must not make its volumes count.
    public var coordinated: Bool = false

    /// Defaults: gzip 1, 4 MiB slabs, shards of up to 2 GiB, a single writer, no resume, no previews, every core.
    public init(
        compression: ShardCompression = .default, chunks: ChunkLayout = .default, maxShardBytes: Int = 2 << 30,
        maxVolumesPerShard: Int = .max, worker: String? = nil, resume: Bool = false, previews: PreviewOptions? = nil,
        concurrency: Int? = nil
    ) {
        self.compression = compression
        self.chunks = chunks
        self.maxShardBytes = maxShardBytes
        self.maxVolumesPerShard = maxVolumesPerShard
        self.worker = worker
        self.resume = resume
        self.previews = previews
        self.concurrency = max(1, concurrency ?? ParallelLoop.defaultConcurrency)
    }

    func validate() throws(ShardError) {
        try compression.validate()
        if let worker, !OutputFolder.isValidWorker(worker) {
            throw .invalidRequest("worker name '\(worker)' is invalid: use letters, digits, '_' and '.' (no '-'), at most 64")
        }
        guard maxShardBytes > 0, maxVolumesPerShard > 0, concurrency > 0 else {
            throw .invalidRequest("shard limits and concurrency must be positive")
        }
    }
}
