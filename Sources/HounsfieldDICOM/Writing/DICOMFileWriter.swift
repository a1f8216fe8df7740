import CDCMTKShim

/// Builds one DICOM file through DCMTK. Used to make synthetic series; not a general DICOM editor.
package final class DICOMFileWriter {
    private let handle: OpaquePointer

    package init() { handle = hf_writer_create() }

    deinit { hf_writer_free(handle) }

    package func set(_ tag: DICOMTag, _ value: String) throws(DICOMError) {
        var error = hf_error()
        try check(hf_writer_put_string(handle, tag.value, value, &error), error)
    }

    package func set(_ tag: DICOMTag, unsigned value: UInt16) throws(DICOMError) {
        var error = hf_error()
        try check(hf_writer_put_uint16(handle, tag.value, value, &error), error)
    }

    package func set(_ tag: DICOMTag, signed value: Int16) throws(DICOMError) {
        var error = hf_error()
        try check(hf_writer_put_int16(handle, tag.value, value, &error), error)
    }

    package func setPixels(_ samples: [UInt16], rows: Int, columns: Int, frames: Int = 1) throws(DICOMError) {
        var error = hf_error()
        let status = samples.withUnsafeBufferPointer { buffer in
            hf_writer_put_pixels16(handle, buffer.baseAddress, UInt32(rows), UInt32(columns), UInt32(frames), &error)
        }
        try check(status, error)
    }

    package func save(to path: String, transferSyntax: String) throws(DICOMError) {
        var error = hf_error()
        let status = hf_writer_save(handle, path, transferSyntax, &error)
        guard status == HF_OK else { throw DICOMError(NativeFailure(status: status, error: error), file: path) }
    }

    private func check(_ status: hf_status, _ error: hf_error) throws(DICOMError) {
        guard status == HF_OK else { throw DICOMError(NativeFailure(status: status, error: error), file: "(writer)") }
    }
}
