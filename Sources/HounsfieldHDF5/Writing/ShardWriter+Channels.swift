import CHDF5Shim
import HounsfieldCore

extension ShardWriter {
    /// Writes overlapping classes as one `uint8` dataset `(C, z, y, x)`, chunked one channel by the image's chunk
    /// and deflated by HDF5 itself. Masks of 0/1 compress to almost nothing whatever the codec, so they do not
    /// follow the image's compression (a Blosc-compressed image's filter is not registered with HDF5's own
    /// pipeline). Returns the stored bytes and the checksum over the C·z planes.
    func writeChannels(_ channels: [Volume<UInt8>], in group: HDF5Object) throws(ShardError) -> (bytes: Int, checksum: String) {
        guard let first = channels.first else { throw .invalidRequest("a channel label needs at least one channel") }
        let size = first.size
        let shape = [channels.count, size.z, size.y, size.x]
        let imageChunk = options.chunks.chunkShape(for: [size.z, size.y, size.x], elementSize: 1)
        let chunk = [1] + imageChunk
        let id = hf5_dataset_create(group.id, "label", ShardElementType.uint8.hdf5Code, 4, shape.map(UInt64.init),
                                    chunk.map(UInt64.init), 1, [Int32(HF5_FILTER_DEFLATE)], [1])
        guard id >= 0 else { throw .hdf5(path: group.child("label"), message: HDF5Object.lastError) }
        let dataset = HDF5Object(id: id, name: group.child("label"), in: group)
        var bytes = [UInt8]()
        bytes.reserveCapacity(shape.reduce(1, *))
        for channel in channels { bytes += channel.voxels }
        let status = bytes.withUnsafeBytes { hf5_write_all(dataset.id, ShardElementType.uint8.hdf5Code, $0.baseAddress) }
        guard status == 0 else { throw .hdf5(path: dataset.name, message: HDF5Object.lastError) }
        let checksum = bytes.withUnsafeBytes { VolumeChecksum.of($0, slices: channels.count * size.z) }
        return (Int(hf5_dataset_storage_size(dataset.id)), checksum)
    }
}
