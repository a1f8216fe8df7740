import HounsfieldCore
import CDCMTKShim

/// One parsed DICOM object, owned by the thread that opened it. The only Swift type that touches the native shim's
/// dataset handle; everything above works with `ImageHeader` values.
///
/// Files in little endian with a preamble — nearly every CT file — are read by `LittleEndianParser`, without
/// DCMTK; everything else (big endian, deflated, no preamble, damaged or unusual encodings) goes to DCMTK through the
/// shim, and so does compressed pixel data other than single-frame lossless JPEG (decision 39).
final class DICOMObject {
    /// Which parser reads an object.
    enum Reader: Sendable {
        /// `LittleEndianParser` where it can, DCMTK otherwise.
        case automatic
        /// DCMTK always (tests compare the two).
        case dcmtk
    }

    private enum Backing {
        case native(LittleEndianDataSet)
        case shim(OpaquePointer)
    }

    private let backing: Backing
    /// Where the object came from: a natively read object hands its pixels to the shim when they need its checks.
    private let source: ImageSource

    private init(_ backing: Backing, source: ImageSource) {
        self.backing = backing
        self.source = source
    }

    deinit {
        if case .shim(let handle) = backing { hf_dataset_close(handle) }
    }

    /// Parses `source`. `headerOnly` stops before Pixel Data, which keeps discovery cheap.
    static func open(_ source: ImageSource, headerOnly: Bool, reader: Reader = .automatic) throws(NativeFailure)
        -> DICOMObject
    {
        if reader == .automatic {
            let dataSet = switch source {
            case .file(let path): LittleEndianDataSet.read(file: path, headerOnly: headerOnly)
            case .memory(_, let bytes): LittleEndianDataSet.read(bytes: bytes, headerOnly: headerOnly)
            }
            if let dataSet { return DICOMObject(.native(dataSet), source: source) }
        }
        var error = hf_error()
        var handle: OpaquePointer?
        let status = switch source {
        case .file(let path): hf_dataset_open_file(path, headerOnly ? 1 : 0, &handle, &error)
        case .memory(_, let bytes):
            bytes.withUnsafeBytes { raw in
                hf_dataset_open_buffer(raw.baseAddress, raw.count, headerOnly ? 1 : 0, &handle, &error)
            }
        }
        guard status == HF_OK, let handle else { throw NativeFailure(status: status, error: error) }
        return DICOMObject(.shim(handle), source: source)
    }

    /// Whether `LittleEndianParser` read the object (false: DCMTK did).
    var isReadNatively: Bool {
        if case .native = backing { true } else { false }
    }

    /// Whether the object started with the 128-byte preamble and "DICM".
    var hasPreamble: Bool {
        switch backing {
        case .native: true  // the parser reads only files with one
        case .shim(let handle): hf_dataset_has_preamble(handle) != 0
        }
    }

    /// The transfer syntax UID the data set was encoded in.
    var transferSyntaxUID: String {
        switch backing {
        case .native(let dataSet): dataSet.transferSyntaxUID
        case .shim(let handle): String(cString: hf_dataset_transfer_syntax(handle))
        }
    }

    func string(_ path: DICOMPath) -> String? {
        switch backing {
        case .native(let dataSet): dataSet.string(path)
        case .shim(let handle): Self.string(path, in: handle)
        }
    }

    func string(_ tag: DICOMTag) -> String? { string(DICOMPath(tag)) }

    func numbers(_ path: DICOMPath) -> [Double]? {
        switch backing {
        case .native(let dataSet): dataSet.numbers(path)
        case .shim(let handle): Self.numbers(path, in: handle)
        }
    }

    func numbers(_ tag: DICOMTag) -> [Double]? { numbers(DICOMPath(tag)) }

    func number(_ tag: DICOMTag) -> Double? { numbers(tag)?.first }

    func integer(_ tag: DICOMTag) -> Int? { number(tag).flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil } }

    func itemCount(_ path: DICOMPath) -> Int? {
        switch backing {
        case .native(let dataSet): dataSet.itemCount(path)
        case .shim(let handle): Self.itemCount(path, in: handle)
        }
    }

    /// The Pixel Data bytes as stored, for layouts the decoders do not take (the packed bits of a 1-bit SEG, whose
    /// frames can start mid-byte), from the parsed bytes or from DCMTK (deflated, big endian, no preamble). Nil when
    /// the pixels are compressed or fewer than `length` bytes are there; the object must have been opened with its
    /// pixels.
    func withStoredPixelBytes<Result>(length: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        switch backing {
        case .native(let dataSet):
            guard !dataSet.isLosslessJPEG else { return nil }
            return try dataSet.withPixels(length: length, body)
        case .shim(let handle):
            var bytes: UnsafeRawPointer?
            var count = 0
            var error = hf_error()
            guard hf_dataset_stored_pixels(handle, &bytes, &count, &error) == HF_OK, let bytes, count >= length else {
                return nil
            }
            return try body(UnsafeRawBufferPointer(start: bytes, count: length))
        }
    }

    /// Decodes all frames and hands the native-byte-order samples to `body`; the bytes are valid only inside it.
    func withDecodedPixels<Result>(
        rows: Int, columns: Int, frames: Int, bitsAllocated: Int, samplesPerPixel: Int,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        switch backing {
        case .native(let dataSet):
            // Uncompressed pixels are used where they lie, and a lossless JPEG frame goes straight to the shim's
            // decoder. A layout the shim refuses, too few bytes, or a frame our decoder does not take goes through
            // the shim's whole path, which decodes it with DCMTK or says why not in the words it uses for every file.
            let bytesPerSample = bitsAllocated / 8
            if samplesPerPixel == 1, [8, 16, 32].contains(bitsAllocated), rows > 0, columns > 0, frames > 0 {
                if dataSet.isLosslessJPEG {
                    if frames == 1, bytesPerSample == 2,
                       let samples = Self.decodeLosslessJPEG(dataSet, rows: rows, columns: columns)
                    {
                        return try samples.withUnsafeBytes(body)
                    }
                } else if let result = try dataSet.withPixels(
                    length: rows * columns * frames * bytesPerSample, body)
                {
                    return result
                }
            }
            return try DICOMObject.open(source, headerOnly: false, reader: .dcmtk).withDecodedPixels(
                rows: rows, columns: columns, frames: frames, bitsAllocated: bitsAllocated,
                samplesPerPixel: samplesPerPixel, body)
        case .shim(let handle):
            var layout = hf_pixel_layout(
                rows: UInt32(rows), columns: UInt32(columns), frames: UInt32(frames),
                bits_allocated: UInt32(bitsAllocated), samples_per_pixel: UInt32(samplesPerPixel))
            var pixels: UnsafeRawPointer?
            var length = 0
            var error = hf_error()
            let status = hf_dataset_decode_pixels(handle, &layout, &pixels, &length, &error)
            guard status == HF_OK, let pixels else { throw NativeFailure(status: status, error: error) }
            return try body(UnsafeRawBufferPointer(start: pixels, count: length))
        }
    }
}

// MARK: Lossless JPEG through the shim's decoder

extension DICOMObject {
    /// The samples of a single-frame lossless JPEG object, or nil when our decoder does not take the frame.
    private static func decodeLosslessJPEG(_ dataSet: LittleEndianDataSet, rows: Int, columns: Int) -> [UInt16]? {
        let count = rows * columns
        let samples = [UInt16](unsafeUninitializedCapacity: count) { out, initialized in
            let decoded = dataSet.withCompressedFrame { frame in
                var error = hf_error()
                return hf_decode_lossless_jpeg_frame(
                    frame.baseAddress, frame.count, UInt32(rows), UInt32(columns), out.baseAddress, &error) == HF_OK
            }
            // The decoder writes every sample when it succeeds.
            initialized = decoded == true ? count : 0
        }
        return samples.isEmpty ? nil : samples
    }
}

// MARK: Values through the shim

extension DICOMObject {
    private static func string(_ path: DICOMPath, in handle: OpaquePointer) -> String? {
        path.components.withUnsafeBufferPointer { components in
            var buffer = [CChar](repeating: 0, count: 256)
            let length = hf_dataset_get_string(handle, components.baseAddress, Int32(components.count), &buffer, 256)
            guard length >= 0 else { return nil }
            if length >= 256 {
                buffer = [CChar](repeating: 0, count: Int(length) + 1)
                _ = hf_dataset_get_string(handle, components.baseAddress, Int32(components.count), &buffer,
                                          length + 1)
            }
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    private static func numbers(_ path: DICOMPath, in handle: OpaquePointer) -> [Double]? {
        path.components.withUnsafeBufferPointer { components in
            var values = [Double](repeating: 0, count: 16)
            let count = hf_dataset_get_numbers(handle, components.baseAddress, Int32(components.count), &values, 16)
            guard count > 0 else { return nil }
            if count > 16 {
                values = [Double](repeating: 0, count: Int(count))
                _ = hf_dataset_get_numbers(handle, components.baseAddress, Int32(components.count), &values, count)
            }
            return Array(values.prefix(Int(count)))
        }
    }

    private static func itemCount(_ path: DICOMPath, in handle: OpaquePointer) -> Int? {
        path.components.withUnsafeBufferPointer { components in
            let count = hf_dataset_item_count(handle, components.baseAddress, Int32(components.count))
            return count >= 0 ? Int(count) : nil
        }
    }
}

/// A failure reported by the native shim: its category and its message.
struct NativeFailure: Error, Sendable {
    enum Category: Sendable { case io, notDICOM, parse, noPixels, unsupported, codec, argument }

    let category: Category
    let message: String

    init(status: hf_status, error: hf_error) {
        category = switch status {
        case HF_ERR_IO: .io
        case HF_ERR_NOT_DICOM: .notDICOM
        case HF_ERR_PARSE: .parse
        case HF_ERR_NO_PIXELS: .noPixels
        case HF_ERR_UNSUPPORTED: .unsupported
        case HF_ERR_CODEC: .codec
        default: .argument
        }
        message = withUnsafeBytes(of: error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
