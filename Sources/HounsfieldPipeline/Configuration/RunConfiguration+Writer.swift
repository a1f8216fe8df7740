import HounsfieldHDF5

extension RunConfiguration {
    /// The shard writer's options this configuration asks for: layout, compression, rotation, naming, resume and
    /// previews; every value was parsed when the configuration was read.
    var writerOptions: ShardWriterOptions {
        ShardWriterOptions(
            compression: output.compression, chunks: output.chunks, maxShardBytes: output.shardSize.bytes,
            maxVolumesPerShard: output.shardVolumes ?? .max, worker: execution.writerName, resume: execution.resume,
            previews: output.previews ? PreviewOptions() : nil)
    }
}
