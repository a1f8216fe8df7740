#include "hf_codecs.h"

#include <libdeflate.h>
#include <lz4.h>
#include <string.h>
#include <zstd.h>

// ---- shuffle ----------------------------------------------------------------------------------------------------

void hf_shuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size) {
    if (element_size <= 1) { memcpy(dst, src, bytes); return; }
    const size_t count = bytes / element_size;
    // Specialised loops for the element sizes volumes use let the compiler vectorise them.
    if (element_size == 4) {
        for (size_t e = 0; e < count; e++) {
            dst[e] = src[4 * e]; dst[count + e] = src[4 * e + 1];
            dst[2 * count + e] = src[4 * e + 2]; dst[3 * count + e] = src[4 * e + 3];
        }
    } else if (element_size == 2) {
        for (size_t e = 0; e < count; e++) { dst[e] = src[2 * e]; dst[count + e] = src[2 * e + 1]; }
    } else {
        for (size_t e = 0; e < count; e++)
            for (size_t b = 0; b < element_size; b++) dst[b * count + e] = src[e * element_size + b];
    }
    const size_t done = count * element_size;
    memcpy(dst + done, src + done, bytes - done);
}

void hf_unshuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size) {
    if (element_size <= 1) { memcpy(dst, src, bytes); return; }
    const size_t count = bytes / element_size;
    if (element_size == 4) {
        for (size_t e = 0; e < count; e++) {
            dst[4 * e] = src[e]; dst[4 * e + 1] = src[count + e];
            dst[4 * e + 2] = src[2 * count + e]; dst[4 * e + 3] = src[3 * count + e];
        }
    } else if (element_size == 2) {
        for (size_t e = 0; e < count; e++) { dst[2 * e] = src[e]; dst[2 * e + 1] = src[count + e]; }
    } else {
        for (size_t e = 0; e < count; e++)
            for (size_t b = 0; b < element_size; b++) dst[e * element_size + b] = src[b * count + e];
    }
    const size_t done = count * element_size;
    memcpy(dst + done, src + done, bytes - done);
}

// ---- per-thread codec state -------------------------------------------------------------------------------------
// Allocating a compressor costs more than compressing a small chunk; each thread keeps one per level. The states
// live as long as the thread (Dispatch's worker threads are reused), a few hundred KB each.

static _Thread_local struct libdeflate_compressor *deflaters[13];
static _Thread_local struct libdeflate_decompressor *inflater;
static _Thread_local ZSTD_CCtx *zstd_compressor;
static _Thread_local ZSTD_DCtx *zstd_decompressor;

static struct libdeflate_compressor *deflater(int level) {
    if (level < 0) level = 0;
    if (level > 12) level = 12;
    if (!deflaters[level]) deflaters[level] = libdeflate_alloc_compressor(level);
    return deflaters[level];
}

// ---- LZ4 in HDF5's framing ---------------------------------------------------------------------------------------
// Header: original size (8 bytes, big-endian), block size (4 bytes, big-endian). Then per block: its stored size
// (4 bytes, big-endian) and its bytes; a block stored at its original size is uncompressed. One block per chunk
// (the filter's default block size is 1 GiB).

static void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static void put_be64(uint8_t *p, uint64_t v) { put_be32(p, (uint32_t)(v >> 32)); put_be32(p + 4, (uint32_t)v); }
static uint32_t get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t get_be64(const uint8_t *p) { return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4); }

static size_t lz4_compress(const uint8_t *src, size_t bytes, uint8_t *dst, size_t capacity) {
    if (bytes == 0 || bytes > LZ4_MAX_INPUT_SIZE || capacity < 16) return 0;
    put_be64(dst, bytes);
    put_be32(dst + 8, (uint32_t)bytes);
    int stored = LZ4_compress_default((const char *)src, (char *)dst + 16, (int)bytes,
                                      (int)(capacity - 16 > (size_t)INT32_MAX ? INT32_MAX : capacity - 16));
    if (stored <= 0 || (size_t)stored >= bytes) return 0;  // incompressible: the caller stores the chunk raw
    put_be32(dst + 12, (uint32_t)stored);
    return 16 + (size_t)stored;
}

static int lz4_decompress(const uint8_t *src, size_t bytes, uint8_t *dst, size_t expected) {
    if (bytes < 12) return -1;
    uint64_t original = get_be64(src);
    uint64_t block = get_be32(src + 8);
    if (original != expected) return -1;
    if (block == 0 || block > original) block = original;
    size_t read = 12, written = 0;
    while (written < original) {
        size_t this_block = original - written < block ? original - written : block;
        if (read + 4 > bytes) return -1;
        uint32_t stored = get_be32(src + read);
        read += 4;
        if (stored > bytes - read) return -1;
        if (stored == this_block) {
            memcpy(dst + written, src + read, this_block);
        } else {
            int n = LZ4_decompress_safe((const char *)src + read, (char *)dst + written, (int)stored, (int)this_block);
            if (n < 0 || (size_t)n != this_block) return -1;
        }
        read += stored;
        written += this_block;
    }
    return 0;
}

// ---- dispatch ----------------------------------------------------------------------------------------------------

size_t hf_compress_bound(int codec, size_t bytes) {
    switch (codec) {
    case HF_CODEC_DEFLATE: return libdeflate_zlib_compress_bound(NULL, bytes);
    case HF_CODEC_ZSTD: return ZSTD_compressBound(bytes);
    case HF_CODEC_LZ4: return 16 + (size_t)LZ4_compressBound((int)(bytes > LZ4_MAX_INPUT_SIZE ? 0 : bytes));
    default: return 0;
    }
}

size_t hf_compress(int codec, int level, const void *src, size_t bytes, void *dst, size_t capacity) {
    switch (codec) {
    case HF_CODEC_DEFLATE: {
        struct libdeflate_compressor *c = deflater(level);
        return c ? libdeflate_zlib_compress(c, src, bytes, dst, capacity) : 0;
    }
    case HF_CODEC_ZSTD: {
        if (!zstd_compressor) zstd_compressor = ZSTD_createCCtx();
        if (!zstd_compressor) return 0;
        size_t n = ZSTD_compressCCtx(zstd_compressor, dst, capacity, src, bytes, level);
        return ZSTD_isError(n) ? 0 : n;
    }
    case HF_CODEC_LZ4: return lz4_compress(src, bytes, dst, capacity);
    default: return 0;
    }
}

int hf_decompress(int codec, const void *src, size_t bytes, void *dst, size_t expected) {
    switch (codec) {
    case HF_CODEC_DEFLATE: {
        if (!inflater) inflater = libdeflate_alloc_decompressor();
        if (!inflater) return -1;
        size_t actual = 0;
        enum libdeflate_result r = libdeflate_zlib_decompress(inflater, src, bytes, dst, expected, &actual);
        return (r == LIBDEFLATE_SUCCESS && actual == expected) ? 0 : -1;
    }
    case HF_CODEC_ZSTD: {
        if (!zstd_decompressor) zstd_decompressor = ZSTD_createDCtx();
        if (!zstd_decompressor) return -1;
        size_t n = ZSTD_decompressDCtx(zstd_decompressor, dst, expected, src, bytes);
        return (!ZSTD_isError(n) && n == expected) ? 0 : -1;
    }
    case HF_CODEC_LZ4: return lz4_decompress(src, bytes, dst, expected);
    default: return -1;
    }
}
