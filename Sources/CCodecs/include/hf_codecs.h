// Chunk codecs for HDF5 shards: HDF5's byte shuffle (filter 2), deflate in zlib format (filter 1: level 1 our own
// run-only encoder, other levels and all reading libdeflate),
// zstd (filter 32015) and LZ4 in the framing of HDF5's LZ4 filter (32004). Each function works on one whole chunk
// held in memory, is thread-safe, and keeps its codec state per thread, so chunks compress on all cores while
// HDF5 (one global lock) only stores the finished bytes.
#ifndef HF_CODECS_H
#define HF_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Codec identifiers, equal to the HDF5 filter ids they produce.
enum {
    HF_CODEC_DEFLATE = 1,
    HF_CODEC_ZSTD = 32015,
    HF_CODEC_LZ4 = 32004,
};

/// HDF5's shuffle: byte b of element e goes to `dst[b * count + e]`; trailing bytes that do not fill an element are
/// copied unchanged. `src` and `dst` must not overlap.
void hf_shuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size);
/// The inverse of `hf_shuffle`.
void hf_unshuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size);

/// The largest output `hf_compress` can produce for `bytes` of input.
size_t hf_compress_bound(int codec, size_t bytes);
/// Compresses `bytes` of `src` into `dst`. `planes` is the shuffle's element size when `src` is shuffled (its byte
/// planes differ, and deflate level 1 codes each apart), 1 otherwise. Returns the compressed size, or 0 when the
/// codec failed or the result would not fit in `capacity` (the caller then stores the chunk unfiltered).
size_t hf_compress(int codec, int level, const void *src, size_t bytes, size_t planes, void *dst, size_t capacity);
/// Decompresses exactly `expected` bytes into `dst`. Returns 0 on success, -1 when the input is corrupt, truncated or
/// does not decompress to `expected` bytes.
int hf_decompress(int codec, const void *src, size_t bytes, void *dst, size_t expected);


#ifdef __cplusplus
}
#endif
#endif
