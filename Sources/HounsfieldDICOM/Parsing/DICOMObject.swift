import HounsfieldCore
import CDCMTKShim

/// One parsed DICOM object, owned by the thread that opened it. The only Swift type that touches the native shim's
/// dataset handle; everything above works with `ImageHeader` values.
final class DICOMObject {
    private let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }

    deinit { hf_dataset_close(handle) }

    /// Parses a file. `headerOnly` stops before Pixel Data, which keeps discovery cheap.
    static func open(file path: String, headerOnly: Bool) throws(NativeFailure) -> DICOMObject {
        var error = hf_error()
        var handle: OpaquePointer?
        let status = hf_dataset_open_file(path, headerOnly ? 1 : 0, &handle, &error)
        guard status == HF_OK, let handle else { throw NativeFailure(status: status, error: error) }
        return DICOMObject(handle: handle)
    }

    /// Parses bytes held in memory (an upload, a C-STORE payload).
    static func open(bytes: [UInt8], headerOnly: Bool) throws(NativeFailure) -> DICOMObject {
        var error = hf_error()
        var handle: OpaquePointer?
        let status = bytes.withUnsafeBytes { raw in
            hf_dataset_open_buffer(raw.baseAddress, raw.count, headerOnly ? 1 : 0, &handle, &error)
        }
        guard status == HF_OK, let handle else { throw NativeFailure(status: status, error: error) }
        return DICOMObject(handle: handle)
    }

    /// Whether the object started with the 128-byte preamble and "DICM".
    var hasPreamble: Bool { hf_dataset_has_preamble(handle) != 0 }

    /// The transfer syntax UID the data set was encoded in.
    var transferSyntaxUID: String { String(cString: hf_dataset_transfer_syntax(handle)) }

    func string(_ path: DICOMPath) -> String? {
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

    func string(_ tag: DICOMTag) -> String? { string(DICOMPath(tag)) }

    func numbers(_ path: DICOMPath) -> [Double]? {
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

    func numbers(_ tag: DICOMTag) -> [Double]? { numbers(DICOMPath(tag)) }

    func number(_ tag: DICOMTag) -> Double? { numbers(tag)?.first }

    func integer(_ tag: DICOMTag) -> Int? { number(tag).flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil } }

    func itemCount(_ path: DICOMPath) -> Int? {
        path.components.withUnsafeBufferPointer { components in
            let count = hf_dataset_item_count(handle, components.baseAddress, Int32(components.count))
            return count >= 0 ? Int(count) : nil
        }
    }

    /// Decodes all frames and hands the native-byte-order samples to `body`; the bytes are valid only inside it.
    func withDecodedPixels<Result>(
        rows: Int, columns: Int, frames: Int, bitsAllocated: Int, samplesPerPixel: Int,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
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
