// gzip for the NIfTI reader and writer (`.nii.gz`) over a whole file held in memory: libdeflate inflates a file of
// one member in one call, zlib streams everything else. The only C the NIfTI module sees; thread-safe (no shared state).
#ifndef HF_GZIP_H
#define HF_GZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Results of `hf_gzip_inflate`.
enum {
    HF_GZIP_OK = 0,
    /// The stream ends before its last member is complete (a cut-off download or copy).
    HF_GZIP_TRUNCATED = 1,
    /// The bytes are not gzip, or a member is damaged (bad header, bad deflate data, CRC or length mismatch).
    HF_GZIP_CORRUPT = 2,
    /// The output would exceed `limit` bytes, or memory ran out.
    HF_GZIP_TOO_LARGE = 3,
};

/// Inflates every gzip member of `src` (concatenated members are joined, as gzip(1) does) into a buffer allocated
/// with malloc, returned in `*out` with its size in `*out_bytes`; the caller frees it with `free`. `size_hint` sizes
/// the first allocation (the last member's ISIZE is a good one); `limit` caps the output. On failure `*out` is NULL.
int hf_gzip_inflate(const void *src, size_t bytes, size_t size_hint, size_t limit, uint8_t **out, size_t *out_bytes);

/// Inflates the start of the gzip stream in `src` (which may itself be only the start of a file) into `out`, at most
/// `capacity` bytes, and stops there: enough to read a header without inflating a whole volume. `*out_bytes` is the
/// count written, less than `capacity` when the stream (or `src`) ended first. Returns HF_GZIP_OK, or
/// HF_GZIP_CORRUPT when the bytes are not gzip.
int hf_gzip_inflate_prefix(const void *src, size_t bytes, uint8_t *out, size_t capacity, size_t *out_bytes);

/// Compresses `bytes` of `src` as one gzip member at zlib `level` (1…9) into a malloc'd buffer (`*out`, freed by the
/// caller with `free`). Returns HF_GZIP_OK, or HF_GZIP_TOO_LARGE when memory runs out.
int hf_gzip_deflate(const void *src, size_t bytes, int level, uint8_t **out, size_t *out_bytes);

#ifdef __cplusplus
}
#endif

#endif
