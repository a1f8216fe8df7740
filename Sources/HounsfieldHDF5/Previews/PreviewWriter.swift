import HounsfieldCore

/// Draws QC previews into an output folder: one JPEG per volume (`previews/KEY.jpg`, its axial, coronal and
/// sagittal mid-slices) and `index.html`, the page that shows them all. It works beside the shard writer, not
/// inside it: the shards never wait for a JPEG, and a preview that cannot be drawn costs a picture, not a volume.
public struct PreviewWriter: Sendable {
    /// How previews look.
    public let options: PreviewOptions
    /// Where they go.
    public let folder: OutputFolder

    /// A writer of previews into `folder`.
    public init(options: PreviewOptions = PreviewOptions(), folder: OutputFolder) {
        self.options = options
        self.folder = folder
    }

    /// Where the preview of `key` lies, relative to the output folder: what the manifest records.
    public static func relativePath(of key: String) -> String { "previews/\(key).jpg" }

    /// Draws the preview of one volume (replacing an older one of the same key).
    public func write<S: ShardScalar>(_ volume: Volume<S>, key: String, metadata: VolumeMetadata) throws(ShardError) {
        _ = try PreviewRenderer(options: options).write(volume, key: key, metadata: metadata, in: folder)
    }

    /// Rebuilds `index.html` from the manifest: every published volume that has a preview.
    public func writeIndex() throws(ShardError) {
        try PreviewIndex.write(for: folder)
    }
}
