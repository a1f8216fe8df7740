import HounsfieldCore
import HounsfieldHDF5
import Logging

/// The QC previews of a run, as a sink of their own: the write stage hands each written volume over (sharing its
/// voxels, not copying them) and goes on; this task draws the JPEGs and, when the run ends, `index.html`. A preview
/// that cannot be drawn is logged and the volume stays written.
struct PreviewSink: Sendable {
    let writer: PreviewWriter
    let logger: Logger

    func run(from input: BoundedChannel<ProcessedVolume>) async {
        for await volume in input {
            let writer = self.writer
            do {
                try await ParallelLoop.offload { () throws(ShardError) in try volume.image.drawPreview(with: writer, key: volume.key, metadata: volume.metadata) }
            } catch {
                logger.warning("could not draw a preview", metadata: ["key": "\(volume.key)", "error": "\(error)"])
            }
        }
        do { try writer.writeIndex() } catch {
            logger.warning("could not write index.html", metadata: ["error": "\(error)"])
        }
    }
}

extension StoredImage {
    /// Draws this image's preview.
    func drawPreview(with writer: PreviewWriter, key: String, metadata: VolumeMetadata) throws(ShardError) {
        switch self {
        case .float32(let v): try writer.write(v, key: key, metadata: metadata)
        case .float16(let v): try writer.write(v, key: key, metadata: metadata)
        case .int16(let v): try writer.write(v, key: key, metadata: metadata)
        case .uint8(let v): try writer.write(v, key: key, metadata: metadata)
        }
    }
}
