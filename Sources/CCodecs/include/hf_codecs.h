// Chunk codecs for HDF5 shards: HDF5's byte shuffle (filter 2), deflate in zlib format (filter 1: level 1 our own
// run-only encoder, other levels and all reading libdeflate),
// zstd (filter 32015), LZ4 in the framing of HDF5's LZ4 filter (32004), and Blosc 1 buffers (filter 32001, c-blosc
// 1.x from Debian's libblosc-dev, which does its own byte shuffle). Each function works on one whole chunk
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
    HF_CODEC_BLOSC = 32001,
};

/// The compressors inside a Blosc buffer, numbered as c-blosc and HDF5's Blosc filter (`cd_values[6]`) number them.
enum {
    HF_BLOSC_BLOSCLZ = 0,
    HF_BLOSC_LZ4 = 1,
    HF_BLOSC_LZ4HC = 2,
    HF_BLOSC_ZSTD = 5,
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

/// The size of a Blosc block (the unit c-blosc decodes on its own): a 32³ float32 chunk (128 KiB) is two blocks of
/// 16 slices, so a patch that needs only some of a chunk's slices decodes half of it; smaller chunks are one block.
#define HF_BLOSC_BLOCK_BYTES 65536

/// Compresses one whole chunk into one c-blosc 1.x buffer in blocks of HF_BLOSC_BLOCK_BYTES (one block when the chunk
/// is smaller), with Blosc's byte shuffle at element size `typesize`, `compressor` (HF_BLOSC_*) at `clevel` 1…9: what
/// HDF5's Blosc filter (32001) and `blosc_decompress` read. Thread-safe (a context per call). Returns the buffer's
/// size, or 0 when it failed or would not fit in `capacity` (give `bytes` to store a chunk raw whenever Blosc cannot
/// shrink it).
size_t hf_blosc_compress(int compressor, int clevel, size_t typesize, const void *src, size_t bytes, void *dst,
                         size_t capacity);
/// Decodes one Blosc buffer of `bytes` into exactly `expected` bytes. Returns 0 on success, -1 when the buffer is
/// corrupt, truncated or does not hold `expected` bytes.
int hf_blosc_decompress(const void *src, size_t bytes, void *dst, size_t expected);

#ifdef __cplusplus
}
#endif
#endif
