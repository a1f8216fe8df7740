import Foundation
import HounsfieldCore

/// A NIfTI-1 or NIfTI-2 image (`.nii` or `.nii.gz`) as read from disk: the header, the geometry in LPS and the
/// voxels, decoded on demand into Hounsfield volumes.
///
/// A 4-D (or higher) file holds ``volumeCount`` 3-D volumes of the same grid, one after the other in file order
/// (time first); ``volume(_:)`` decodes one of them and ``volumes()`` all. Voxels are kept as the file stores them
/// (inflated, if gzip) until asked for, so reading the header of a large file is cheap after inflation.
public struct NIfTIImage: Sendable {
    /// The file, as given.
    public let path: String
    /// The header and its extensions, as stored.
    public let header: NIfTIHeader
    /// The LPS geometry of every volume (ITK's rule) and which transform gave it.
    public let orientation: NIfTIOrientation
    /// The uncompressed file.
    private let bytes: Data

    /// Reads `path` (gzip is detected from the content, not the name) and checks the header against the file.
    public init(contentsOf path: String) throws(NIfTIError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw NIfTIError(path: path, reason: .unreadable(error.localizedDescription))
        }
        try self.init(path: path, data: data)
    }

    /// Reads a NIfTI file held in memory (gzip or not); `path` only names it in errors.
    public init(path: String, data: Data) throws(NIfTIError) {
        try self.init(path: path, uncompressed: Gzip.isGzip(data) ? try Gzip.inflate(data, path: path) : data)
    }

    /// `bytes` uncompressed; with `isPrefix`, only the start of the file (``NIfTIPreview``): the voxels then end
    /// where the bytes do.
    init(path: String, uncompressed bytes: Data, isPrefix: Bool = false) throws(NIfTIError) {
        // `withUnsafeBytes` rethrows untyped: carry the typed error out in a Result.
        let parsed = bytes.withUnsafeBytes { raw in
            Result { () throws(NIfTIError) in try NIfTIHeader.parse(raw, path: path) }
        }
        let header = try parsed.get()
        let (perVolume, overflow1) = header.size.voxelCount.multipliedReportingOverflow(by: header.dataType.byteCount)
        let (total, overflow2) = perVolume.multipliedReportingOverflow(by: header.volumeCount)
        guard !overflow1, !overflow2, header.voxelOffset <= Int.max - total else {
            throw NIfTIError(path: path, reason: .tooLarge)
        }
        guard header.voxelOffset + total <= bytes.count || isPrefix else {
            throw NIfTIError(path: path, reason: .truncated(have: bytes.count, need: header.voxelOffset + total))
        }
        self.path = path
        self.header = header
        self.orientation = try NIfTIOrientation(header: header, path: path)
        self.bytes = bytes
    }

    /// Voxels along x, y, z of each volume.
    public var size: GridSize { header.size }
    /// Where each volume sits in patient space (LPS).
    public var geometry: Geometry { orientation.geometry }
    /// The number of 3-D volumes: 1 for a 3-D file, `dim[4]` (× any further dims) for 4-D and up.
    public var volumeCount: Int { header.volumeCount }

    /// Volume `index` (0-based, file order) as Float32 with `scl_slope`/`scl_inter` applied (when the slope is
    /// neither 0 nor NaN), on ``geometry``. Integer and float64 values are rounded to Float32 as NumPy's `astype`
    /// does, so the result equals SimpleITK's array cast to float32.
    public func volume(_ index: Int = 0) throws(NIfTIError) -> Volume<Float32> {
        try checkVolume(index)
        return Volume(size: size, geometry: geometry) { output in
            decode(index, into: output) { Float32($0) }
        }
    }

    /// Volume `index` as another voxel type, each scaled value converted by `Scalar(hounsfield:)` (integers round
    /// half away from zero and saturate): `volume(0, as: Int16.self)` keeps an int16 CT at half the memory of Float32.
    public func volume<Scalar: VoxelScalar>(
        _ index: Int = 0, as type: Scalar.Type
    ) throws(NIfTIError) -> Volume<Scalar> {
        try checkVolume(index)
        return Volume(size: size, geometry: geometry) { output in
            decode(index, into: output) { Scalar(hounsfield: $0) }
        }
    }

    /// Volume `index` as a ``PlaneSource``: each plane is converted (scaled to Float32) when a transform reads it,
    /// so a chain that reads planes (resampling) never allocates the Float32 volume. The voxels are those of
    /// ``volume(_:)``. Reading a plane throws `CancellationError` once `isCancelled` says so.
    public func planes(
        _ index: Int = 0, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws(NIfTIError) -> NIfTIPlanes {
        try checkVolume(index)
        return NIfTIPlanes(image: self, volume: index, isCancelled: isCancelled)
    }

    /// Converts plane `z` of volume `index` into `plane` (`size.x × size.y` values).
    func read(volume index: Int, plane z: Int, into plane: UnsafeMutablePointer<Float32>) {
        let count = size.x * size.y
        visit(index, voxels: z * count..<(z + 1) * count) { i, value in
            plane[i - z * count] = Float32(value)
            return true
        }
    }

    /// Every volume, in file order.
    public func volumes() throws(NIfTIError) -> [Volume<Float32>] {
        var result: [Volume<Float32>] = []
        for index in 0..<volumeCount { result.append(try volume(index)) }
        return result
    }

    /// Volume `index` as class values for a label map: every (scaled) value must be an integer in 0…65535.
    public func labelValues(_ index: Int = 0) throws(NIfTIError) -> Volume<UInt16> {
        try checkVolume(index)
        var bad: Double?
        let values = Volume<UInt16>(size: size, geometry: geometry) { output in
            decode(index, into: output, parallel: false) { value in
                guard value >= 0, value <= 65535, value == value.rounded() else {
                    if bad == nil { bad = value }
                    return 0
                }
                return UInt16(value)
            }
        }
        if let bad { throw NIfTIError(path: path, reason: .notALabelValue(bad)) }
        return values
    }

    /// Whether volume `index` holds only what a label map holds: every (scaled) value a whole number of 0 or more,
    /// and at most ``maximumLabelValues`` different ones. A CT in HU never qualifies (air is about −1000 HU, and a
    /// CT normalized to [0, 1] has fractions); one stored unsigned without `scl_inter` (values 0…4095) has whole
    /// numbers of 0 or more too, but thousands of different ones, where a label map has a class per value. So
    /// discovery tells images from label maps by their values, whatever type the file stores them in. A file whose
    /// header says `NIFTI_INTENT_LABEL` (1002) is a label map by declaration: its values need only be whole numbers
    /// of 0 or more. Stops at the first value that decides, which for a CT in HU is among the first voxels.
    public func holdsLabelValues(_ index: Int = 0) throws(NIfTIError) -> Bool {
        try checkVolume(index)
        let counted = header.intentCode != NIfTIHeader.labelIntent
        // One bit per value 0…65535 seen (8 KiB); larger values are whole numbers all the same, and not counted.
        var seen = [UInt64](repeating: 0, count: 1 << 10)
        var distinct = 0
        var labelLike = true
        visit(index) { _, value in
            guard value >= 0, value == value.rounded() else {
                labelLike = false
                return false
            }
            if counted, value < 65536 {
                let v = Int(value), bit = UInt64(1) << UInt64(v & 63)
                if seen[v >> 6] & bit == 0 {
                    seen[v >> 6] |= bit
                    distinct += 1
                    if distinct > Self.maximumLabelValues {
                        labelLike = false
                        return false
                    }
                }
            }
            return true
        }
        return labelLike
    }

    /// The most different values a file may hold and still be taken for a label map without declaring itself one
    /// (`NIFTI_INTENT_LABEL`): room for a 1,000-region parcellation (Schaefer 1000) with its background, where a CT
    /// stored unsigned has several thousand.
    public static let maximumLabelValues = 1024

    private func checkVolume(_ index: Int) throws(NIfTIError) {
        guard (0..<volumeCount).contains(index) else {
            throw NIfTIError(path: path, reason: .volumeOutOfRange(index, count: volumeCount))
        }
    }

    /// Decodes volume `index` into `output` (x fastest, as stored), each value scaled and then converted. With
    /// `parallel`, slices are converted on all cores (`convert` must then touch nothing but its value).
    private func decode<T>(
        _ index: Int, into output: UnsafeMutableBufferPointer<T>, parallel: Bool = true, _ convert: (Double) -> T
    ) {
        // One part per slice on all cores, or one part for the whole volume on this thread.
        let part = parallel ? size.x * size.y : size.voxelCount
        ParallelLoop.forEach(size.voxelCount / part) { k in
            visit(index, voxels: k * part..<(k + 1) * part) { i, value in
                output[i] = convert(value)
                return true
            }
        }
    }

    /// Calls `body` with each voxel index of volume `index` (within `voxels`, all by default) and its scaled value,
    /// in file order, until it returns false.
    @inline(__always)
    private func visit(_ index: Int, voxels: Range<Int>? = nil, _ body: (Int, Double) -> Bool) {
        let start = header.voxelOffset + index * size.voxelCount * header.dataType.byteCount
        // A prefix (``NIfTIPreview``) holds fewer voxels than the header says; a whole file holds them all.
        let available = min(size.voxelCount, max(0, bytes.count - start) / header.dataType.byteCount)
        let range = (voxels ?? 0..<available).clamped(to: 0..<available)
        let big = header.isBigEndian
        let scaling = header.scaling
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            func run<Raw: FixedWidthInteger>(_: Raw.Type, _ value: (Raw) -> Double) {
                for i in range {
                    let stored = base.loadUnaligned(fromByteOffset: i * MemoryLayout<Raw>.size, as: Raw.self)
                    let v = value(big ? Raw(bigEndian: stored) : Raw(littleEndian: stored))
                    if !body(i, scaling.map { v * $0.slope + $0.intercept } ?? v) { return }
                }
            }
            switch header.dataType {
            case .uint8: run(UInt8.self) { Double($0) }
            case .int8: run(Int8.self) { Double($0) }
            case .int16: run(Int16.self) { Double($0) }
            case .uint16: run(UInt16.self) { Double($0) }
            case .int32: run(Int32.self) { Double($0) }
            case .uint32: run(UInt32.self) { Double($0) }
            case .int64: run(Int64.self) { Double($0) }
            case .uint64: run(UInt64.self) { Double($0) }
            case .float32: run(UInt32.self) { Double(Float32(bitPattern: $0)) }
            case .float64: run(UInt64.self) { Double(bitPattern: $0) }
            }
        }
    }
}
