import HounsfieldHDF5

extension RunConfiguration {
    /// The shard writer's options this configuration asks for: layout, compression, rotation, naming, resume and
    /// previews. Throws ``RunError/configuration(_:)`` naming `output` when a value does not parse (``validate()``
    /// catches that first).
    func writerOptions() throws(RunError) -> ShardWriterOptions {
        do {
            return ShardWriterOptions(
                compression: try ShardCompression(parsing: output.compression),
                chunks: try ChunkLayout(parsing: output.chunks),
                maxShardBytes: try ByteSize.parse(output.shardSize),
                maxVolumesPerShard: output.shardVolumes ?? .max,
                worker: execution.writerName, resume: execution.resume,
                previews: output.previews ? PreviewOptions() : nil)
        } catch {
            throw .configuration(.invalid(path: "output", reason: "\(error)"))
        }
    }
}
