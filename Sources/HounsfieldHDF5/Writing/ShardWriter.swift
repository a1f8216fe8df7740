import CHDF5Shim
import Crypto
import Foundation
import HounsfieldCore
import Logging

/// Writes volumes into HDF5 shards in an output folder, publishing each shard atomically and listing its volumes in
/// the manifest only after it is published (`docs/format.md`).
///
/// Chunks are compressed on `options.concurrency` threads and handed to HDF5 already compressed (direct chunk
/// writes), so HDF5's global lock only covers copying finished bytes into the file.
///
/// When the output fails (a full disk, a failed write or fsync, a removed folder) the writer stops cleanly: the shard
/// it was writing is closed without touching its disk again and stays `.partial`, every shard published before it
/// stays with its manifest lines, and every later call, `finish()` included, throws the same
/// ``ShardError/outputFailed(_:)``. `failureFlag` tells other tasks (``OutputFailureFlag``).
///
/// Not `Sendable`: one writer belongs to one task. Several processes can write to one folder, each with its own
/// `worker` name.
public final class ShardWriter {
    /// The output folder.
    public let folder: OutputFolder
    /// Layout, compression, rotation and naming, as validated at creation.
    public let options: ShardWriterOptions
    private let logger: Logger

    /// Keys already published in the folder (by earlier runs, other workers, or this writer), or in a shard this
    /// writer closed for publication.
    public var publishedKeys: Set<String> { record.keys }
    /// Manifest lines this writer published, in the order their shards became durable.
    public var published: [ManifestEntry] { record.entries }
    private let record = PublicationRecord()
    /// Manifest lines recovered from shards that were published without their lines (a crash in between).
    public private(set) var recovered: [ManifestEntry] = []

    /// Raised when the output fails; readable from any task, so the stages feeding this writer can stop.
    public let failureFlag = OutputFailureFlag()
    /// Why the output failed, once it has: the writer then takes no more volumes.
    public var failure: OutputFailure? { failureFlag.failure }

    private var nextNumber = 0
    private var current: OpenShard?
    private var finished = false
    /// Chunk buffers reused across chunks and volumes: as many as one volume's write has in hand at once (each
    /// worker's shuffle scratch and encoded chunk, plus the chunks waiting for their turn and the run being stored).
    private let buffers: ChunkBufferPool

    /// Opens (creating if needed) an output folder for writing.
    public init(directory: URL, options: ShardWriterOptions = .init(),
                logger: Logger = Logger(label: "hounsfield.shards")) throws(ShardError) {
        try options.validate()
        self.folder = OutputFolder(directory)
        self.options = options
        self.logger = logger
        buffers = ChunkBufferPool(limit: 4 * options.concurrency + 1)
        do {
            try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        } catch {
            throw .io(path: folder.path, operation: "create folder", errno: Int32((error as NSError).code))
        }
        try prepareFolder()
    }

    deinit {
        // Never finished: the open shard is not published, and is closed without writing to its disk again.
        if let shard = current { abandon(shard) }
    }

    /// Whether a shard is open: volumes written but not yet published.
    public var hasOpenShard: Bool { current != nil }

    /// Publishes the open shard now, if there is one, instead of at its rotation: a service whose input has gone
    /// quiet makes what it wrote durable (and readable) without waiting for more. The next write opens a new shard.
    public func publishOpenShard() throws(ShardError) {
        if let failure { throw .outputFailed(failure) }
        guard !finished else { return }
        try publishCurrent()
    }

    /// Closes the open shard, if there is one, and returns what remains of its publication, for the caller to
    /// complete on another thread while this writer goes on with the next shard (decision 69). Its keys count as
    /// published from now on (a duplicate is refused); its lines are in ``published`` once it is complete, and are
    /// not handed out by ``takeNewlyPublished()``: whoever completes it reports it.
    public func closeOpenShard() throws(ShardError) -> PendingPublication? {
        if let failure { throw .outputFailed(failure) }
        guard !finished else { return nil }
        return try closeCurrent()
    }

    /// Manifest lines published by this writer's own calls (a rotation inside `write`, ``publishOpenShard()``,
    /// ``finish()``) since the last call, in order: each is handed out once.
    public func takeNewlyPublished() -> [ManifestEntry] { record.takeUnannounced() }

    /// Frees the chunk buffers the writer keeps from volume to volume: call it when no volume is expected for a
    /// while (a service whose input went quiet). The next write allocates them again.
    public func releaseBuffers() { buffers.drain() }

    /// Whether a volume with this key is already in the folder: a resuming run skips it.
    public func isPublished(_ key: String) -> Bool { record.contains(key) }

    /// Writes one volume. Its shard is published (and its manifest line written) when the shard rotates or on
    /// `finish()`. Returns the manifest line it will have (shard, checksum), which is durable only once
    /// ``published`` holds it.
    @discardableResult
    public func write<Image: ShardScalar>(
        _ image: Volume<Image>, key: String, metadata: VolumeMetadata = .init()
    ) throws(ShardError) -> ManifestEntry {
        try write(image, label: Volume<UInt8>?.none, key: key, metadata: metadata)
    }

    /// Writes one volume and its label map (same grid). Returns the manifest line it will have.
    @discardableResult
    public func write<Image: ShardScalar, Label: ShardScalar>(
        _ image: Volume<Image>, label: Volume<Label>?, key: String, metadata: VolumeMetadata = .init()
    ) throws(ShardError) -> ManifestEntry {
        if let label, label.size != image.size {
            throw .invalidRequest("volume '\(key)': the label's grid \(label.size) differs from the image's \(image.size)")
        }
        return try write(image, key: key, metadata: metadata, label: label.map(StoredLabel.volume))
    }

    /// Writes one volume and its labels (on the image's grid): a class-index map as a `(z, y, x)` dataset chunked and
    /// compressed like the image, so patches of both read alike, `uint8` when every value fits and `uint16` when a
    /// class value is above 255 (a parcellation, a large atlas); overlapping classes as a `uint8` `(C, z, y, x)`
    /// dataset, one 0/1 channel per class. The layout, classes and voxel counts go into the volume's
    /// `label_summary` attribute and its manifest line. Returns the manifest line it will have.
    @discardableResult
    public func write<Image: ShardScalar>(
        _ image: Volume<Image>, labels: LabelMap?, sources: [String] = [], labelWarnings: [String] = [], key: String,
        metadata: VolumeMetadata = .init()
    ) throws(ShardError) -> ManifestEntry {
        guard let labels else { return try write(image, label: Volume<UInt8>?.none, key: key, metadata: metadata) }
        guard labels.size == image.size, labels.geometry == image.geometry else {
            throw .invalidRequest("volume '\(key)': the labels' grid \(labels.size) differs from the image's \(image.size)")
        }
        let summary = LabelSummary(labels, sources: sources, warnings: labelWarnings)
        return try write(image, key: key, metadata: metadata, label: StoredLabel<UInt8>.map(labels, summary))
    }

    /// A label on its way into a volume's group.
    private enum StoredLabel<Label: ShardScalar> {
        /// A label volume written like the image.
        case volume(Volume<Label>)
        /// A label map and the summary recorded with it.
        case map(LabelMap, LabelSummary)

        var summary: LabelSummary? {
            if case .map(_, let summary) = self { summary } else { nil }
        }
    }

    private func write<Image: ShardScalar, Label: ShardScalar>(
        _ image: Volume<Image>, key: String, metadata: VolumeMetadata, label: StoredLabel<Label>?
    ) throws(ShardError) -> ManifestEntry {
        if let failure { throw .outputFailed(failure) }
        guard !finished else { throw .invalidRequest("this shard writer is finished; make a new one") }
        guard OutputFolder.isValidKey(key) else {
            throw .invalidRequest("volume key '\(key)' is invalid: use 1-128 of A-Z a-z 0-9 _ . -")
        }
        guard image.size.voxelCount > 0 else { throw .invalidRequest("volume '\(key)' has no voxels") }
        if let shard = current, shard.keys.contains(key) { throw .duplicateKey(key: key, shard: shard.name + ".partial") }
        guard !record.contains(key) else {
            throw .duplicateKey(key: key, shard: record.shard(of: key) ?? "an earlier shard of this folder")
        }
        if let shard = current, shard.bytes >= options.maxShardBytes || shard.keys.count >= options.maxVolumesPerShard {
            try publishCurrent()
        }
        let shard: OpenShard
        if let open = current {
            shard = open
        } else {
            let name = OutputFolder.shardName(number: nextNumber, worker: options.worker)
            do { shard = try openShard(name) } catch { throw failed(error, operation: "create", path: partialPath(name)) }
        }
        current = shard

        let stored: (bytes: Int, checksum: String)
        var bytes: Int
        do {
            let group = try shard.volumes.createGroup(key)
            try writeAttributes(of: image, metadata: metadata, to: group)
            stored = try writeDataset(image, named: "image", in: group, writeback: shard.writeback)
            try group.write("checksum", string: stored.checksum)
            bytes = stored.bytes
            if let label {
                let storedLabel: (bytes: Int, checksum: String)
                switch label {
                case .volume(let volume):
                    storedLabel = try writeDataset(volume, named: "label", in: group, writeback: shard.writeback)
                case .map(let map, let summary):
                    if let values = map.values, map.needsTwoBytes {
                        storedLabel = try writeDataset(values, named: "label", in: group, writeback: shard.writeback)
                    } else if let values = map.values {
                        storedLabel = try writeDataset(values.converted(to: UInt8.self), named: "label", in: group,
                                                       writeback: shard.writeback)
                    } else {
                        storedLabel = try writeChannels(map.channels, in: group)
                    }
                    try group.write("label_summary", string: summary.json)
                }
                try group.write("label_checksum", string: storedLabel.checksum)
                bytes += storedLabel.bytes
            }
        } catch {
            throw failed(error, operation: "write", path: partialPath(shard.name))
        }
        // The preview itself is drawn by whoever writes previews (``PreviewWriter``), beside the shard writer.
        let preview = options.previews == nil ? nil : PreviewWriter.relativePath(of: key)
        shard.bytes += bytes
        shard.keys.insert(key)
        let entry = ManifestEntry(
            key: key, shard: shard.name, path: "/\(ShardFormat.volumesGroup)/\(key)/image",
            labelPath: label == nil ? nil : "/\(ShardFormat.volumesGroup)/\(key)/label",
            shape: [image.size.z, image.size.y, image.size.x], dtype: Image.shardElementType,
            spacing: image.geometry.spacing.array, origin: image.geometry.origin.array,
            direction: image.geometry.direction.rowMajor, checksum: stored.checksum, bytes: bytes,
            sourceSeries: metadata.sourceSeries, preview: preview, warnings: metadata.warnings,
            labels: label?.summary)
        shard.entries.append(entry)
        return entry
    }

    /// Publishes the open shard and appends its manifest lines. Returns every line this writer published.
    @discardableResult
    public func finish() throws(ShardError) -> [ManifestEntry] {
        if let failure { throw .outputFailed(failure) }
        guard !finished else { return published }
        try publishCurrent()
        finished = true
        return published
    }

    // MARK: - Failures

    /// Turns an error met while writing into the writer's output failure: the open shard is abandoned (it stays
    /// `.partial`), the flag is raised, and every later call throws the same failure. Errors that are not about
    /// the output (a TurboJPEG refusal, say) pass through unchanged.
    private func failed(_ error: ShardError, operation: String, path: String) -> ShardError {
        switch error {
        case .io, .hdf5, .outputFailed:
            break
        default:
            return error
        }
        let failure = failureFlag.raise(error, operation: operation, path: path, folder: folder.path, logger: logger)
        if let shard = current {
            current = nil
            abandon(shard)
        }
        return .outputFailed(failure)
    }

    /// Closes a shard that will not be published without writing to its disk again; its `.partial` stays.
    private func abandon(_ shard: OpenShard) {
        shard.writeback.finish()
        shard.file.discard()
        logger.notice("left an unfinished shard unpublished", metadata: ["shard": "\(shard.name).partial"])
    }

    // MARK: - Shards

    /// A shard being written: its HDF5 file, its `/volumes` group, and what it holds so far.
    private final class OpenShard {
        let name: String
        let file: HDF5Object
        let volumes: HDF5Object
        let writeback: Writeback
        var keys: Set<String> = []
        var entries: [ManifestEntry] = []
        var bytes = 0

        init(name: String, file: HDF5Object, volumes: HDF5Object, writeback: Writeback) {
            self.name = name
            self.file = file
            self.volumes = volumes
            self.writeback = writeback
        }
    }

    private func partialPath(_ name: String) -> String { folder.url.appendingPathComponent(name + ".partial").path }
    private func finalPath(_ name: String) -> String { folder.url.appendingPathComponent(name).path }

    private func openShard(_ name: String) throws(ShardError) -> OpenShard {
        nextNumber += 1
        let file = try HDF5Object.createFile(partialPath(name))
        try file.write("format", string: ShardFormat.name)
        try file.write("format_version", integer: ShardFormat.version)
        try file.write("writer", string: ShardFormat.softwareVersion)
        try file.write("worker", string: options.worker ?? "")
        let volumes = try file.createGroup(ShardFormat.volumesGroup)
        logger.debug("opened shard", metadata: ["shard": "\(name)"])
        return OpenShard(name: name, file: file, volumes: volumes, writeback: Writeback(path: partialPath(name)))
    }

    /// Closes the open shard and makes it visible: flush, close, fsync, rename, fsync the folder; then the manifest.
    /// Any failure before the rename leaves the shard `.partial` (and the writer failed). After the rename the
    /// shard is complete (it was fsynced first): when the folder's fsync or the manifest append fails, its lines are
    /// missing, and resuming recovers them from the shard.
    private func publishCurrent() throws(ShardError) {
        try closeCurrent()?.complete(announcedByWriter: true)
    }

    /// Flushes and closes the open shard's file (the part of a publication that needs HDF5 and this writer) and
    /// returns the rest. The chunk buffers stay for the next volume, even across shards: a worker publishes at
    /// every study, and fresh buffers at each were 3.7× the page faults of a batch run (decision 69); a writer about
    /// to sit idle hands them back with ``releaseBuffers()``.
    private func closeCurrent() throws(ShardError) -> PendingPublication? {
        guard let shard = current else { return nil }
        do {
            try shard.file.close()   // flushes first; a failed flush discards the file (hf5_file_close)
            shard.writeback.finish()
        } catch {
            throw failed(error, operation: "publish", path: partialPath(shard.name))
        }
        current = nil
        record.reserve(shard.entries.map(\.key), shard: shard.name)
        return PendingPublication(
            shard: shard.name, entries: shard.entries, partialPath: partialPath(shard.name),
            finalPath: finalPath(shard.name), folderPath: folder.path, manifestPath: ownManifestURL.path,
            record: record, failureFlag: failureFlag, logger: logger)
    }

    private func appendToManifest(_ entries: [ManifestEntry]) throws(ShardError) {
        try PendingPublication.append(entries, to: ownManifestURL.path)
    }

    /// The manifest this writer appends to: in the folder, or in the workers' ledger when coordinated.
    private var ownManifestURL: URL {
        let name = OutputFolder.manifestName(worker: options.worker)
        guard options.coordinated else { return folder.url.appendingPathComponent(name) }
        return folder.url.appendingPathComponent(OutputFolder.workerLedgerFolder).appendingPathComponent(name)
    }

    // MARK: - Datasets and attributes

    private func writeDataset<S: ShardScalar>(
        _ volume: Volume<S>, named name: String, in group: HDF5Object, writeback: Writeback
    ) throws(ShardError) -> (bytes: Int, checksum: String) {
        let type = S.shardElementType
        let shape = [volume.size.z, volume.size.y, volume.size.x]
        let chunk = options.chunks.chunkShape(for: shape, elementSize: type.size)
        let grid = ChunkGrid(shape: shape, chunk: chunk)
        let filters = options.compression.filters
        let id = hf5_dataset_create(group.id, name, type.hdf5Code, 3, shape.map(UInt64.init), chunk.map(UInt64.init),
                                    Int32(filters.count), filters.map(\.id), filters.map(\.parameter))
        guard id >= 0 else { throw .hdf5(path: group.child(name), message: HDF5Object.lastError) }
        let dataset = HDF5Object(id: id, name: group.child(name), in: group)
        let codec = ChunkCodec(compression: options.compression, elementSize: type.size)
        // Workers encode at most `concurrency` chunks past the one due, so a slow write holds back encoding
        // instead of filling memory with encoded chunks.
        let commit = OrderedCommit(window: options.concurrency)
        let failure = ErrorSlot<ShardError>()
        let datasetID = dataset.id, datasetName = dataset.name
        // Per chunk: bytes stored and slice digests, filled by whichever thread writes the chunk.
        var storedBytes = [Int](repeating: 0, count: grid.chunkCount)
        var sliceDigests = [[[UInt8]]](repeating: [], count: grid.chunkCount)
        // Other layouts than slabs hash whole slices of the array apart from their chunks: chunk task i hashes
        // slices ⌈i·S/C⌉ ..< ⌈(i+1)·S/C⌉ once its chunk is handed over, so the hashing spreads over the loop and
        // overlaps the file writes instead of running as a pass of its own after them (W1 with 32³ cubes: ~0.05 s).
        let slices = volume.size.z, chunkCount = grid.chunkCount, hashesApart = !grid.isSlabs
        var apartDigests = [[UInt8]](repeating: [], count: hashesApart ? slices : 0)
        let checksum = storedBytes.withUnsafeMutableBufferPointer { bytesBuffer in
            sliceDigests.withUnsafeMutableBufferPointer { digestBuffer in
                apartDigests.withUnsafeMutableBufferPointer { apartBuffer in
                    let bytesSlots = DisjointSlots(bytesBuffer), digestSlots = DisjointSlots(digestBuffer)
                    let apartSlots = DisjointSlots(apartBuffer)
                    return volume.voxels.withUnsafeBytes { array -> String in
                        let sliceBytes = slices > 0 ? array.count / slices : 0
                        ParallelLoop.forEach(grid.chunkCount, concurrency: options.concurrency) { index in
                            guard failure.first == nil, commit.waitForTurn(index) else { return }
                            var run = commit.deposit(index, codec.encode(chunk: index, of: grid, array: array, buffers: buffers))
                            while !run.isEmpty {
                                // Chunks are read in place (no copy of the element), so that each buffer is
                                // referenced by the run alone when it goes back to the pool. After a failed write the
                                // file takes nothing more (its other chunks are compressed for nothing; the writer
                                // abandons the shard).
                                for position in run.indices {
                                    defer { buffers.recycle(&run[position].chunk.bytes) }
                                    guard failure.first == nil else { continue }
                                    let written = run[position].index, mask = run[position].chunk.filterMask
                                    let offset = grid.offset(ofChunk: written).map(UInt64.init)
                                    let status = run[position].chunk.withStoredBytes {
                                        hf5_write_chunk(datasetID, 3, offset, mask, $0.baseAddress, $0.count)
                                    }
                                    if status != 0 {
                                        failure.record(.hdf5(path: datasetName, message: HDF5Object.lastError))
                                        commit.cancel()  // the chunks after a skipped one never become due
                                    }
                                    bytesSlots[written] = run[position].chunk.count
                                    digestSlots[written] = run[position].chunk.sliceDigests
                                    writeback.wrote(run[position].chunk.count)
                                }
                                run = commit.finishedRun()
                            }
                            guard hashesApart else { return }
                            let first = (index * slices + chunkCount - 1) / chunkCount
                            let end = ((index + 1) * slices + chunkCount - 1) / chunkCount
                            for k in first..<end {
                                apartSlots[k] = Array(SHA256.hash(data: UnsafeRawBufferPointer(
                                    rebasing: array[(k * sliceBytes)..<((k + 1) * sliceBytes)])))
                            }
                        }
                        // Slab chunks hashed their slices while compressing; other layouts hashed them beside the chunks.
                        return grid.isSlabs
                            ? VolumeChecksum.combine(Array(digestBuffer.joined()))
                            : VolumeChecksum.combine(Array(apartBuffer))
                    }
                }
            }
        }
        if let failure = failure.first { throw failure }
        let stored = storedBytes.reduce(0, +)
        return (stored, checksum)
    }

    private func writeAttributes<S: ShardScalar>(
        of image: Volume<S>, metadata: VolumeMetadata, to group: HDF5Object
    ) throws(ShardError) {
        let geometry = image.geometry
        try group.write("spacing", doubles: geometry.spacing.array)
        try group.write("origin", doubles: geometry.origin.array)
        try group.write("direction", doubles: geometry.direction.rowMajor, shape: [3, 3])
        try group.write("affine_lps", doubles: geometry.affineLPS.flatMap { $0 }, shape: [4, 4])
        try group.write("affine_ras", doubles: geometry.affineRAS.flatMap { $0 }, shape: [4, 4])
        try group.write("shape", integers: [image.size.z, image.size.y, image.size.x])
        let originalSize = metadata.originalSize ?? image.size
        try group.write("original_size", integers: [originalSize.x, originalSize.y, originalSize.z])
        try group.write("original_spacing", doubles: (metadata.originalSpacing ?? geometry.spacing).array)
        try group.write("transform", string: metadata.transform)
        try group.write("transform_key", string: metadata.transformKey)
        try group.write("configuration_key", string: metadata.configurationKey)
        if let window = metadata.window { try group.write("window", doubles: [window.lowerBound, window.upperBound]) }
        if let normalization = metadata.normalization { try group.write("normalization", string: normalization) }
        try group.write("value_scale", double: metadata.valueScale)
        try group.write("source_series", string: metadata.sourceSeries)
        try group.write("source_study", string: metadata.sourceStudy)
        try group.write("modality", string: metadata.modality)
        try group.write("warnings", strings: metadata.warnings)
        try group.write("software_version", string: metadata.softwareVersion)
        try group.write("layout", string: ShardLayout.attribute(chunks: options.chunks, compression: options.compression))
    }

    // MARK: - Resuming

    /// Deletes this worker's `.partial` debris, reads what the folder already holds, recovers manifest lines of
    /// shards published without them, and picks the next shard number.
    private func prepareFolder() throws(ShardError) {
        let worker = options.worker
        var mine: [Int] = []
        var ownPublished = false
        for name in folder.fileNames() {
            guard let shard = OutputFolder.parseShardName(name), shard.worker == worker else { continue }
            if shard.partial {
                // A writer with this worker name died while writing it, or stopped when its output failed (a full
                // disk); it was never visible to readers. Its number is used again once it is gone.
                do {
                    try FileManager.default.removeItem(at: folder.url.appendingPathComponent(name))
                    logger.notice("removed an unpublished shard left by an interrupted or failed run", metadata: ["shard": "\(name)"])
                } catch {
                    mine.append(shard.number)
                    logger.warning("could not remove an unpublished shard of an earlier run; it is left and ignored", metadata: ["shard": "\(name)", "error": "\(error)"])
                }
            } else {
                mine.append(shard.number)
                ownPublished = true
            }
        }
        nextNumber = (mine.max() ?? -1) + 1
        let manifests = folder.manifestEntries()
        if options.coordinated {
            // The coordinator's manifest says what counts; this worker's own lines go to the ledger.
            record.add(existingKeys: manifests.entries.filter { $0.status == "ok" }.map(\.key))
            do {
                try FileManager.default.createDirectory(
                    at: ownManifestURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw .invalidRequest("cannot create \(ownManifestURL.deletingLastPathComponent().path): \(error.localizedDescription)")
            }
            return
        }
        let ownManifest = folder.manifestNames().contains(OutputFolder.manifestName(worker: worker))
        if !options.resume && (ownPublished || ownManifest) {
            throw .invalidRequest("\(folder.path) already holds shards of \(worker.map { "worker '\($0)'" } ?? "a writer"); resume to continue that run, or write to an empty folder")
        }
        record.add(existingKeys: manifests.entries.filter { $0.status == "ok" }.map(\.key))
        // Shards that no manifest line names were published by a writer that died before appending its lines. The
        // shard is complete (it was renamed only after fsync), so its volumes count; this worker's own are written
        // back into its manifest, other workers' are left for `manifest merge`.
        let listed = Set(manifests.entries.map(\.shard))
        for name in folder.shardNames() where !listed.contains(name) {
            let entries = try ShardReader(url: folder.url.appendingPathComponent(name)).manifestEntries(relativeTo: folder)
            record.add(existingKeys: entries.map(\.key))
            if OutputFolder.parseShardName(name)?.worker == worker {
                try appendToManifest(entries)
                recovered += entries
                logger.notice("recovered manifest lines of a shard published before a crash", metadata: ["shard": "\(name)", "volumes": "\(entries.count)"])
            }
        }
    }
}
