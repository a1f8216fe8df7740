import CHDF5Shim
import Foundation
import HounsfieldCore

/// Reads one published shard: lists its volumes, and reads whole volumes, slabs or patches with their geometry.
///
/// Chunks are read raw (`H5Dread_chunk`) and decompressed on all cores, so reading is not limited by HDF5's global
/// lock or by plugins: every codec of the format is built in. Open one reader per process (HDF5 handles must not
/// cross `fork`).
public final class ShardReader {
    /// The shard file.
    public let url: URL
    /// The shard's `format_version` (at most ``ShardFormat/version``, or opening fails).
    public let formatVersion: Int
    /// The software that wrote the shard.
    public let writer: String
    /// The writer's worker name, "" for a single writer.
    public let worker: String
    /// Threads that decompress chunks (at least 1).
    public let concurrency: Int
    private let file: HDF5Object
    private let volumes: HDF5Object

    /// Opens a published shard. Throws ``ShardError/invalidRequest(_:)`` for a `.partial` file,
    /// ``ShardError/malformed(path:reason:)`` when the file is not a Hounsfield shard, and
    /// ``ShardError/unsupportedVersion(path:version:)`` when it was written by a newer format.
    public init(url: URL, concurrency: Int? = nil) throws(ShardError) {
        self.url = url
        self.concurrency = max(1, concurrency ?? ParallelLoop.defaultConcurrency)
        let path = url.path
        if path.hasSuffix(".partial") {
            throw .invalidRequest("\(path) is an unpublished shard (still being written, or left by a crash); read the published .h5 files only")
        }
        file = try HDF5Object.openFile(path)
        guard file.hasAttribute("format"), (try? file.string("format")) == ShardFormat.name else {
            throw .malformed(path: path, reason: "the file attribute 'format' is not '\(ShardFormat.name)'")
        }
        formatVersion = try file.integers("format_version").first ?? 0
        guard formatVersion <= ShardFormat.version else { throw .unsupportedVersion(path: path, version: formatVersion) }
        writer = (try? file.string("writer")) ?? ""
        worker = (try? file.string("worker")) ?? ""
        guard file.contains(ShardFormat.volumesGroup) else {
            throw .malformed(path: path, reason: "no /\(ShardFormat.volumesGroup) group")
        }
        volumes = try file.openGroup(ShardFormat.volumesGroup)
    }

    /// The shard's file name.
    public var name: String { url.lastPathComponent }

    /// Keys of the volumes in this shard, in name order.
    public func keys() throws(ShardError) -> [String] { try volumes.childNames() }

    /// Everything but the voxels of volume `key`.
    public func volume(_ key: String) throws(ShardError) -> StoredVolume {
        let group = try openVolume(key)
        let image = try group.openDataset("image")
        let layout = try DatasetLayout(image)
        let geometry = try geometry(of: group)
        var bytes = Int(hf5_dataset_storage_size(image.id))
        var labelType: ShardElementType?
        if group.contains("label") {
            let label = try group.openDataset("label")
            labelType = try DatasetLayout(label, allowingChannels: true).elementType
            bytes += Int(hf5_dataset_storage_size(label.id))
        }
        let originalSize = (try? group.integers("original_size")).flatMap { $0.count == 3 ? GridSize(x: $0[0], y: $0[1], z: $0[2]) : nil }
        let window = (try? group.doubles("window")).flatMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil }
        let metadata = VolumeMetadata(
            originalSize: originalSize,
            originalSpacing: try? vector(group, "original_spacing"),
            transform: optionalString(group, "transform") ?? "",
            transformKey: optionalString(group, "transform_key") ?? "",
            configurationKey: optionalString(group, "configuration_key") ?? "",
            window: window,
            normalization: optionalString(group, "normalization"),
            valueScale: (try? group.doubles("value_scale").first) ?? 1,
            sourceSeries: optionalString(group, "source_series") ?? "",
            sourceStudy: optionalString(group, "source_study") ?? "",
            modality: optionalString(group, "modality") ?? "",
            warnings: group.hasAttribute("warnings") ? (try group.strings("warnings")) : [],
            softwareVersion: optionalString(group, "software_version") ?? "")
        return StoredVolume(
            key: key, shard: name, size: GridSize(x: layout.shape[2], y: layout.shape[1], z: layout.shape[0]),
            elementType: layout.elementType, geometry: geometry, metadata: metadata,
            checksum: optionalString(group, "checksum") ?? "", labelElementType: labelType,
            labelChecksum: optionalString(group, "label_checksum"), storedBytes: bytes, chunkShape: layout.chunk,
            filters: layout.filters.map(Int.init), layout: optionalString(group, "layout"),
            labels: optionalString(group, "label_summary").flatMap(LabelSummary.init(json:)))
    }

    /// The manifest lines for every volume of this shard (rebuilding a lost manifest).
    public func manifestEntries(relativeTo folder: OutputFolder) throws(ShardError) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        for key in try keys() {
            let preview = "previews/\(key).jpg"
            let hasPreview = FileManager.default.fileExists(atPath: folder.url.appendingPathComponent(preview).path)
            entries.append(try volume(key).manifestEntry(preview: hasPreview ? preview : nil))
        }
        return entries
    }

    /// The whole image of volume `key`, converted to `S` if it is stored as another type.
    public func readImage<S: ShardScalar>(_ key: String, as type: S.Type = Float32.self) throws(ShardError) -> Volume<S> {
        try readRegion(key, dataset: "image", start: nil, size: nil, as: type)
    }

    /// The label map of volume `key` (a class map; a label of overlapping classes is channels: ``readLabelChannels(_:)``).
    /// A map with a class value above 255 is stored as uint16: read it `as: UInt16.self` (as `UInt8` it is refused).
    public func readLabel<S: ShardScalar>(_ key: String, as type: S.Type = UInt8.self) throws(ShardError) -> Volume<S> {
        let group = try openVolume(key)
        if group.contains("label"), try DatasetLayout(try group.openDataset("label"), allowingChannels: true).shape.count == 4 {
            throw .invalidRequest("volume '\(key)' stores overlapping classes as channels (C, z, y, x): read them with readLabelChannels")
        }
        return try readRegion(key, dataset: "label", start: nil, size: nil, as: type)
    }

    /// Slices `slices` (k range) of volume `key`: a slab, with the geometry of its first slice.
    public func readSlab<S: ShardScalar>(_ key: String, slices: Range<Int>, as type: S.Type = Float32.self) throws(ShardError) -> Volume<S> {
        let info = try volume(key)
        return try readRegion(key, dataset: "image", start: [slices.lowerBound, 0, 0],
                              size: [slices.count, info.size.y, info.size.x], as: type)
    }

    /// A patch of `dataset` ("image" or "label") starting at voxel `start` (z, y, x) with `size` (z, y, x) voxels;
    /// nil for the whole array. The patch's geometry places it where it lies in the volume.
    public func readRegion<S: ShardScalar>(
        _ key: String, dataset name: String = "image", start: [Int]?, size: [Int]?, as type: S.Type = Float32.self
    ) throws(ShardError) -> Volume<S> {
        let group = try openVolume(key)
        guard group.contains(name) else { throw .missingVolume(key: "\(key)/\(name)", location: self.url.path) }
        let dataset = try group.openDataset(name)
        let layout = try DatasetLayout(dataset)
        let start = start ?? [0, 0, 0]
        let size = size ?? layout.shape
        guard start.count == 3, size.count == 3,
              (0..<3).allSatisfy({ start[$0] >= 0 && size[$0] > 0 && start[$0] + size[$0] <= layout.shape[$0] })
        else {
            throw .invalidRequest("region start \(start) size \(size) (z, y, x) is not inside \(dataset.name) of shape \(layout.shape)")
        }
        var geometry = try geometry(of: group)
        geometry.origin = geometry.point(atIndex: Vector3(Double(start[2]), Double(start[1]), Double(start[0])))
        let grid = GridSize(x: size[2], y: size[1], z: size[0])
        let bytes = try readBytes(dataset, layout: layout, start: start, size: size)
        return try Self.volume(from: bytes, storedAs: layout.elementType, size: grid, geometry: geometry, as: type)
    }

    /// The image of volume `key` (or a region of it: `start` and `size` in (z, y, x), nil for all) in the values
    /// the pipeline produced: integer storage divided by the volume's `value_scale`, float storage as it is.
    ///
    /// What a training loop wants, and what the Python reader's `scaled()` and `ShardDataset` give; `readImage` and
    /// `readRegion` return the stored values (which the checksum covers).
    public func readValues(_ key: String, start: [Int]? = nil, size: [Int]? = nil) throws(ShardError) -> Volume<Float32> {
        var values = try readRegion(key, dataset: "image", start: start, size: size, as: Float32.self)
        let stored = try volume(key)
        let scale = Float32(stored.metadata.valueScale)
        if stored.elementType == .int16 || stored.elementType == .uint8, scale != 1, scale > 0 {
            values.voxels.withUnsafeMutableBufferPointer { voxels in
                for index in voxels.indices { voxels[index] /= scale }
            }
        }
        return values
    }

    /// The checksum of the voxels as stored (`docs/format.md`), to compare with the recorded one.
    public func storedChecksum(_ key: String, dataset name: String = "image") throws(ShardError) -> String {
        let group = try openVolume(key)
        guard group.contains(name) else { throw .missingVolume(key: "\(key)/\(name)", location: url.path) }
        let dataset = try group.openDataset(name)
        let layout = try DatasetLayout(dataset, allowingChannels: name == "label")
        let bytes = layout.shape.count == 4 ? try readWhole(dataset, layout: layout)
            : try readBytes(dataset, layout: layout, start: [0, 0, 0], size: layout.shape)
        // A channel label (C, z, y, x) hashes its C·z planes in order, as the writer did.
        return bytes.withUnsafeBytes { VolumeChecksum.of($0, slices: layout.shape.dropLast(2).reduce(1, *)) }
    }

    /// The channels of a label stored in the channel layout `(C, z, y, x)` (overlapping classes), one 0/1 volume per
    /// class in increasing class value, on the image's grid. A class-index label is one volume: ``readLabel(_:as:)``.
    public func readLabelChannels(_ key: String) throws(ShardError) -> [Volume<UInt8>] {
        let group = try openVolume(key)
        guard group.contains("label") else { throw .missingVolume(key: "\(key)/label", location: url.path) }
        let dataset = try group.openDataset("label")
        let layout = try DatasetLayout(dataset, allowingChannels: true)
        guard layout.shape.count == 4, layout.elementType == .uint8 else {
            throw .malformed(path: dataset.name, reason: "not a channel label (C, z, y, x) of uint8; read it with readLabel")
        }
        let geometry = try geometry(of: group)
        let bytes = try readWhole(dataset, layout: layout)
        let size = GridSize(x: layout.shape[3], y: layout.shape[2], z: layout.shape[1])
        return (0..<layout.shape[0]).map { channel in
            Volume(voxels: Array(bytes[(channel * size.voxelCount)..<((channel + 1) * size.voxelCount)]), size: size,
                   geometry: geometry)
        }
    }

    /// A whole dataset of any rank through HDF5's own filters (the channel labels, which HDF5 deflates itself).
    private func readWhole(_ dataset: HDF5Object, layout: DatasetLayout) throws(ShardError) -> [UInt8] {
        let total = layout.shape.reduce(1, *) * layout.elementType.size
        var status: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            status = hf5_read_region(dataset.id, layout.elementType.hdf5Code, Int32(layout.shape.count),
                                     [UInt64](repeating: 0, count: layout.shape.count), layout.shape.map(UInt64.init),
                                     buffer.baseAddress)
            count = status == 0 ? total : 0
        }
        guard status == 0 else { throw .hdf5(path: dataset.name, message: HDF5Object.lastError) }
        return bytes
    }

    // MARK: - Internals

    fileprivate func openVolume(_ key: String) throws(ShardError) -> HDF5Object {
        guard OutputFolder.isValidKey(key), volumes.contains(key) else { throw .missingVolume(key: key, location: url.path) }
        return try volumes.openGroup(key)
    }

    /// A volume group's geometry attributes, checked: a damaged shard is an error naming it, never a trap.
    fileprivate func geometry(of group: HDF5Object) throws(ShardError) -> Geometry {
        let direction = try group.doubles("direction")
        guard direction.count == 9 else {
            throw .malformed(path: "\(group.name)@direction", reason: "expected 9 values, found \(direction.count)")
        }
        return Geometry(origin: try vector(group, "origin"), spacing: try vector(group, "spacing"),
                        direction: Direction(rowMajor: direction))
    }

    private func vector(_ group: HDF5Object, _ name: String) throws(ShardError) -> Vector3 {
        let values = try group.doubles(name)
        guard values.count == 3 else { throw .malformed(path: "\(group.name)@\(name)", reason: "expected 3 values, found \(values.count)") }
        return Vector3(values[0], values[1], values[2])
    }

    private func optionalString(_ group: HDF5Object, _ name: String) -> String? {
        group.hasAttribute(name) ? try? group.string(name) : nil
    }

    /// The raw little-endian bytes of a region, C order.
    fileprivate func readBytes(_ dataset: HDF5Object, layout: DatasetLayout, start: [Int], size: [Int]) throws(ShardError) -> [UInt8] {
        let elementSize = layout.elementType.size
        let total = size.reduce(1, *) * elementSize
        guard layout.isChunked else {
            var status: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
                status = hf5_read_region(dataset.id, layout.elementType.hdf5Code, 3, start.map(UInt64.init),
                                         size.map(UInt64.init), buffer.baseAddress)
                count = status == 0 ? total : 0
            }
            guard status == 0 else { throw .hdf5(path: dataset.name, message: HDF5Object.lastError) }
            return bytes
        }
        for filter in layout.filters where ![1, 2, 32015, 32004, 32001].contains(filter) {
            throw .unsupportedFilter(path: dataset.name, filter: Int(filter))
        }
        let grid = ChunkGrid(shape: layout.shape, chunk: layout.chunk)
        let chunks = grid.chunks(intersecting: start, size: size)
        let codec = ChunkCodec(compression: .none, elementSize: elementSize)
        let chunkBytes = grid.chunkElements * elementSize
        let datasetID = dataset.id
        let pipeline = layout.filters
        let failures = ErrorSlot<ShardError>()
        let result = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let region = DisjointSlots(buffer)
            // Chunks are disjoint, so each worker writes its own part of the region.
            ParallelLoop.forEach(chunks.count, concurrency: concurrency) { i in
                let index = chunks[i]
                let origin = grid.offset(ofChunk: index)
                let offset = origin.map(UInt64.init)
                let decoded = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
                defer { decoded.deallocate() }
                let storedSize = hf5_chunk_size(datasetID, 3, offset)
                if storedSize <= 0 {
                    // Never written: HDF5's fill value, zero.
                    decoded.initializeMemory(as: UInt8.self, repeating: 0)
                } else {
                    let stored = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(storedSize), alignment: 16)
                    defer { stored.deallocate() }
                    var mask: UInt32 = 0
                    guard hf5_read_chunk(datasetID, 3, offset, &mask, stored.baseAddress) == 0 else {
                        failures.record(.hdf5(path: dataset.name, message: HDF5Object.lastError))
                        return
                    }
                    guard codec.unfilter(UnsafeRawBufferPointer(stored), filterMask: mask, pipeline: pipeline, into: decoded) else {
                        failures.record(.corruptChunk(path: dataset.name, offset: origin))
                        return
                    }
                }
                codec.scatter(chunk: UnsafeRawBufferPointer(decoded), chunkOrigin: origin, chunkShape: grid.chunk,
                              regionStart: start, regionSize: size, into: UnsafeMutableRawPointer(region.base))
            }
            count = total
        }
        if let failure = failures.first { throw failure }
        return result
    }

    /// Builds a typed volume from raw bytes stored as `stored`, converting when `S` differs. A uint16 label map read
    /// as `UInt8` is refused when a value does not fit, rather than saturated into a wrong class.
    static func volume<S: ShardScalar>(
        from bytes: [UInt8], storedAs stored: ShardElementType, size: GridSize, geometry: Geometry, as type: S.Type
    ) throws(ShardError) -> Volume<S> {
        func typed<T: ShardScalar>(_: T.Type) -> Volume<T> {
            Volume<T>(size: size, geometry: geometry) { buffer in
                _ = bytes.withUnsafeBytes { memcpy(buffer.baseAddress!, $0.baseAddress!, $0.count) }
            }
        }
        if stored == S.shardElementType { return typed(S.self) }
        switch stored {
        case .float32: return typed(Float32.self).converted(to: S.self)
        case .int16: return typed(Int16.self).converted(to: S.self)
        case .uint8: return typed(UInt8.self).converted(to: S.self)
        case .uint16:
            let values = typed(UInt16.self)
            if S.self == UInt8.self, let largest = values.voxels.max(), largest > 255 {
                throw .invalidRequest("the label holds class values up to \(largest), stored as uint16: read it as UInt16")
            }
            return values.converted(to: S.self)
        case .float16:
            #if !(os(macOS) && arch(x86_64))
            return typed(Float16.self).converted(to: S.self)
            #else
            throw .invalidRequest("float16 volumes cannot be read on this platform")
            #endif
        }
    }
}

/// The element type, shape, chunk shape and filter pipeline of a dataset.
struct DatasetLayout {
    let elementType: ShardElementType
    let shape: [Int]
    let chunk: [Int]
    let filters: [Int32]
    var isChunked: Bool { chunk.allSatisfy { $0 > 0 } }

    /// Reads a dataset's layout; `allowingChannels` also takes a rank-4 label `(C, z, y, x)`.
    init(_ dataset: HDF5Object, allowingChannels: Bool = false) throws(ShardError) {
        var type: Int32 = 0
        var rank: Int32 = 8
        var dims = [UInt64](repeating: 0, count: 8)
        var chunk = [UInt64](repeating: 0, count: 8)
        guard hf5_dataset_shape(dataset.id, &type, &rank, &dims, &chunk) == 0 else {
            throw .hdf5(path: dataset.name, message: HDF5Object.lastError)
        }
        guard rank == 3 || (allowingChannels && rank == 4) else {
            throw .malformed(path: dataset.name, reason: "rank \(rank), expected 3 (z, y, x)")
        }
        guard let elementType = ShardElementType(hdf5Code: type) else {
            throw .malformed(path: dataset.name, reason: "element type is not one of float32, float16, int16, uint8, uint16")
        }
        self.elementType = elementType
        shape = dims.prefix(Int(rank)).map(Int.init)
        self.chunk = chunk.prefix(Int(rank)).map(Int.init)
        var ids = [Int32](repeating: 0, count: 16)
        var parameters = [UInt32](repeating: 0, count: 16)
        let n = hf5_dataset_filters(dataset.id, &ids, &parameters, 16)
        guard n >= 0, n <= 16 else { throw .hdf5(path: dataset.name, message: HDF5Object.lastError) }
        filters = Array(ids.prefix(Int(n)))
    }
}

extension ShardReader {
    /// A reader of patches from one dataset of volume `key` that keeps the dataset open and its layout, geometry
    /// and value scale in memory: what a training loop sampling many patches from one volume wants (the Python
    /// reader's per-volume cache). Each patch then costs only its chunks: read as stored (`H5Dread_chunk`) and
    /// decoded on all cores, so with the training layout (32³ Blosc chunks) a 96³ patch decodes 27 to 64 small chunks.
    public func patches(_ key: String, dataset name: String = "image") throws(ShardError) -> VolumePatches {
        try VolumePatches(reader: self, key: key, dataset: name)
    }
}

/// Patches of one dataset of one volume, from ``ShardReader/patches(_:dataset:)``. Not `Sendable`, like its reader:
/// use it where it was made (one per training worker process or thread).
public final class VolumePatches {
    /// The volume's key.
    public let key: String
    /// The dataset's shape (z, y, x).
    public let shape: [Int]
    /// The stored element type.
    public let elementType: ShardElementType
    /// The volume's geometry (of voxel (0, 0, 0)).
    public let geometry: Geometry
    /// The `value_scale` attribute: integer storage is divided by it in ``values(start:size:)``.
    public let valueScale: Double
    private let reader: ShardReader
    private let dataset: HDF5Object
    private let layout: DatasetLayout

    fileprivate init(reader: ShardReader, key: String, dataset name: String) throws(ShardError) {
        let group = try reader.openVolume(key)
        guard group.contains(name) else { throw .missingVolume(key: "\(key)/\(name)", location: reader.url.path) }
        self.reader = reader
        self.key = key
        dataset = try group.openDataset(name)
        layout = try DatasetLayout(dataset)
        shape = layout.shape
        elementType = layout.elementType
        geometry = try reader.geometry(of: group)
        valueScale = (try? group.doubles("value_scale").first) ?? 1
    }

    /// The stored values of the region at `start` (z, y, x) with `size` (z, y, x), converted to `S`; its geometry
    /// places it where it lies in the volume.
    public func read<S: ShardScalar>(start: [Int], size: [Int], as type: S.Type = Float32.self) throws(ShardError) -> Volume<S> {
        guard start.count == 3, size.count == 3,
              (0..<3).allSatisfy({ start[$0] >= 0 && size[$0] > 0 && start[$0] + size[$0] <= shape[$0] })
        else {
            throw .invalidRequest("region start \(start) size \(size) (z, y, x) is not inside \(dataset.name) of shape \(shape)")
        }
        var placed = geometry
        placed.origin = geometry.point(atIndex: Vector3(Double(start[2]), Double(start[1]), Double(start[0])))
        let bytes = try reader.readBytes(dataset, layout: layout, start: start, size: size)
        return try ShardReader.volume(from: bytes, storedAs: elementType,
                                      size: GridSize(x: size[2], y: size[1], z: size[0]), geometry: placed, as: type)
    }

    /// The region in the values the pipeline produced (integer storage divided by ``valueScale``), as
    /// ``ShardReader/readValues(_:start:size:)`` gives them.
    public func values(start: [Int], size: [Int]) throws(ShardError) -> Volume<Float32> {
        var values = try read(start: start, size: size, as: Float32.self)
        let scale = Float32(valueScale)
        if elementType == .int16 || elementType == .uint8, scale != 1, scale > 0 {
            values.voxels.withUnsafeMutableBufferPointer { voxels in
                for index in voxels.indices { voxels[index] /= scale }
            }
        }
        return values
    }
}
