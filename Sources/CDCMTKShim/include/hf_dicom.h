// hf_dicom.h — the only boundary between Hounsfield and its native DICOM libraries.
//
// DCMTK (parsing, JPEG/JPEG-LS/RLE codecs, writing), OpenJPEG (JPEG 2000) and TurboJPEG (baseline JPEG) live behind
// this plain C interface. Every C++ exception and DCMTK condition stays inside the implementation; callers get a
// status code and a message. Nothing here knows about Hounsfield units, geometry or series: those rules are written
// in Swift, where they can be read and tested.
//
// Threading: a dataset or writer handle belongs to one thread at a time. Different handles may be used on different
// threads concurrently; codec registration happens once, thread-safely, on first use.

#ifndef HF_DICOM_H
#define HF_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hf_status {
    HF_OK = 0,
    /// The file could not be opened or read.
    HF_ERR_IO = 1,
    /// The bytes are not DICOM (no DICM magic and no plausible leading tag).
    HF_ERR_NOT_DICOM = 2,
    /// The bytes look like DICOM but could not be parsed (truncated, bad lengths, bad VR).
    HF_ERR_PARSE = 3,
    /// The object has no (or too little) pixel data for its declared image size.
    HF_ERR_NO_PIXELS = 4,
    /// The transfer syntax or pixel layout is not supported.
    HF_ERR_UNSUPPORTED = 5,
    /// A codec failed to decode or encode the pixel data.
    HF_ERR_CODEC = 6,
    /// A caller passed an invalid argument.
    HF_ERR_ARGUMENT = 7
} hf_status;

/// A message that explains a failure, written by the shim in plain words.
typedef struct hf_error {
    char message[512];
} hf_error;

/// A parsed DICOM object (file meta information and data set).
typedef struct hf_dataset hf_dataset;

/// Parses a DICOM file. With `header_only` non-zero, parsing stops before Pixel Data (7FE0,0010), which keeps
/// discovery cheap; such a handle cannot decode pixels.
hf_status hf_dataset_open_file(const char *path, int header_only, hf_dataset **out, hf_error *error);

/// Parses a DICOM object held in memory. The bytes are copied; the caller may free them afterwards.
hf_status hf_dataset_open_buffer(const void *bytes, size_t length, int header_only, hf_dataset **out,
                                 hf_error *error);

void hf_dataset_close(hf_dataset *dataset);

/// Non-zero when the object carried a 128-byte preamble and the "DICM" magic.
int hf_dataset_has_preamble(const hf_dataset *dataset);

/// The transfer syntax UID the data set was encoded in (empty string if unknown). Valid while the handle is open.
const char *hf_dataset_transfer_syntax(const hf_dataset *dataset);

// Attributes are addressed by a path of 32-bit values: tag, item index, tag, item index, …, tag — an odd count.
// A tag is (group << 16) | element. Group 0002 is looked up in the file meta information.

/// Copies the attribute's value (all values joined by backslashes, trailing spaces removed) into `buffer`
/// (NUL-terminated, truncated to `capacity`). Returns the full length, or -1 if the attribute is absent or empty.
int hf_dataset_get_string(const hf_dataset *dataset, const uint32_t *path, int path_length, char *buffer,
                          int capacity);

/// Writes up to `capacity` numeric values of the attribute (DS, IS, US, SS, UL, SL, FL, FD, AT) into `values`.
/// Returns the number of values the attribute holds (which may exceed `capacity`), or -1 if it is absent, empty or
/// not numeric.
int hf_dataset_get_numbers(const hf_dataset *dataset, const uint32_t *path, int path_length, double *values,
                           int capacity);

/// Returns the number of items of the sequence at `path`, or -1 if there is no such sequence.
int hf_dataset_item_count(const hf_dataset *dataset, const uint32_t *path, int path_length);

/// Description of the pixel data that `hf_dataset_decode_pixels` must produce; the caller reads it from the header.
typedef struct hf_pixel_layout {
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;
    uint32_t bits_allocated;   ///< 8, 16 or 32
    uint32_t samples_per_pixel;
} hf_pixel_layout;

/// Decodes every frame into native-byte-order samples, frames one after the other. On success `*pixels` points to
/// `*length` bytes owned by the dataset (valid until it is closed). The length is checked against the layout: less
/// data than the layout needs is an error, never a silently short image.
hf_status hf_dataset_decode_pixels(hf_dataset *dataset, const hf_pixel_layout *layout, const void **pixels,
                                   size_t *length, hf_error *error);

/// The uncompressed Pixel Data bytes as DCMTK holds them (little endian on little-endian hosts), for layouts the
/// decoders do not take: the packed bits of a 1-bit DICOM SEG. `*bytes` stays valid until the dataset is closed.
/// HF_ERR_UNSUPPORTED for encapsulated (compressed) pixel data.
hf_status hf_dataset_stored_pixels(hf_dataset *dataset, const void **bytes, size_t *length, hf_error *error);

/// Decodes one lossless JPEG frame (process 14, one component, 9–16 bits) held in `bytes` into `out` (rows × columns
/// native 16-bit samples) with our own decoder, for callers that split the frames themselves. HF_ERR_UNSUPPORTED
/// means the decoder does not take this frame (see `hf_lossless_jpeg_counts`): decode the object through
/// `hf_dataset_decode_pixels`, which hands such frames to DCMTK.
hf_status hf_decode_lossless_jpeg_frame(const void *bytes, size_t length, uint32_t rows, uint32_t columns,
                                        uint16_t *out, hf_error *error);

/// Lossless JPEG frames decoded since the process started: by our own decoder, and left to DCMTK because ours does
/// not take them (restart intervals that end mid-row, point transform, 8-bit, damaged data, …). Diagnostics and
/// tests read these.
void hf_lossless_jpeg_counts(uint64_t *decoded, uint64_t *declined);

// MARK: - Writing (used by the synthetic series generator and tests)

typedef struct hf_writer hf_writer;

hf_writer *hf_writer_create(void);
void hf_writer_free(hf_writer *writer);

/// Inserts or replaces a string-valued attribute (the VR comes from DCMTK's dictionary). Multiple values are
/// separated by backslashes.
hf_status hf_writer_put_string(hf_writer *writer, uint32_t tag, const char *value, hf_error *error);

/// Inserts or replaces a US (or US/SS "xs") attribute.
hf_status hf_writer_put_uint16(hf_writer *writer, uint32_t tag, uint16_t value, hf_error *error);

/// Inserts or replaces an SS attribute (or an "xs" attribute when pixels are signed).
hf_status hf_writer_put_int16(hf_writer *writer, uint32_t tag, int16_t value, hf_error *error);

/// Sets 16-bit grayscale pixel data: `frames` frames of rows × columns samples.
hf_status hf_writer_put_pixels16(hf_writer *writer, const uint16_t *pixels, uint32_t rows, uint32_t columns,
                                 uint32_t frames, hf_error *error);

/// Writes a DICOM file (preamble and file meta information) in the given transfer syntax, compressing the pixel
/// data when the syntax requires it: RLE, JPEG lossless (process 14 SV1), JPEG-LS lossless and JPEG 2000 lossless
/// are supported for encoding.
hf_status hf_writer_save(hf_writer *writer, const char *path, const char *transfer_syntax_uid, hf_error *error);

#ifdef __cplusplus
}
#endif

#endif
