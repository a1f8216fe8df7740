// Internal helpers shared by the shim's translation units. Not part of the public header.
#pragma once

#include "../include/hf_dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct hf_dataset {
    DcmFileFormat file;
    bool headerOnly = false;
    bool hasPreamble = false;
    std::string transferSyntax;
    std::vector<uint8_t> ownedBytes;     ///< the caller's buffer, when opened from memory
    std::vector<uint8_t> decodedPixels;  ///< frames decoded by our own codecs (JPEG 2000, baseline JPEG)
};

namespace hf {

/// Formats a message into the caller's error struct (if any) and returns the status, so call sites read
/// `return fail(error, HF_ERR_PARSE, "...", ...)`.
hf_status fail(hf_error *error, hf_status status, const char *format, ...) __attribute__((format(printf, 3, 4)));

/// Registers DCMTK's decoders and encoders exactly once per process (thread-safe).
void registerCodecs();

/// Compressed bytes of one frame of an encapsulated Pixel Data element.
struct FrameBytes {
    std::vector<uint8_t> bytes;
};

/// Splits encapsulated pixel data into frames (Basic Offset Table, one fragment per frame, or start-marker scan).
hf_status encapsulatedFrames(DcmDataset *dataset, uint32_t frameCount, const uint8_t startMarker[2],
                             std::vector<FrameBytes> &frames, hf_error *error);

/// Decodes one JPEG 2000 codestream (or JP2 file) of a single component into `out` with `bytesPerSample` (1 or 2)
/// samples in native byte order. `expected` is rows × columns.
hf_status decodeJPEG2000(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns,
                         uint32_t bytesPerSample, uint8_t *out, hf_error *error);

/// Encodes one 16-bit frame as a lossless (reversible 5/3) JPEG 2000 codestream.
hf_status encodeJPEG2000(const uint16_t *pixels, uint32_t rows, uint32_t columns, uint32_t bitsStored,
                         bool isSigned, std::vector<uint8_t> &out, hf_error *error);

/// Decodes one 8-bit grayscale baseline JPEG frame with TurboJPEG into `out` (rows × columns bytes).
hf_status decodeBaselineJPEG(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns, uint8_t *out,
                             hf_error *error);

/// Decodes one lossless JPEG frame (process 14, one component, 9–16 bits, no point transform) into `out`
/// (rows × columns native 16-bit samples). HF_ERR_UNSUPPORTED means "let DCMTK decode this frame": anything
/// unusual, including damaged data, goes there, so that DCMTK's samples or DCMTK's error are what the caller gets.
hf_status decodeLosslessJPEG(const uint8_t *bytes, size_t length, uint32_t rows, uint32_t columns, uint16_t *out,
                             hf_error *error);

}  // namespace hf
