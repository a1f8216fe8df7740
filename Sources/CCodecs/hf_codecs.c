#include "hf_codecs.h"
#include "hf_deflate_runs.h"

#include <blosc.h>
#include <libdeflate.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

// ---- shuffle ----------------------------------------------------------------------------------------------------
// The shuffle is a byte transpose. For 4- and 2-byte elements on x86-64 it runs 16 elements at a time with SSSE3
// (a byte shuffle inside each 16-byte vector, then a transpose of 32- or 64-bit lanes), several times faster than
// the scalar loop, which stays for the tail, other element sizes and other CPUs.

#if defined(__x86_64__)
#include <immintrin.h>

static int has_ssse3(void) { return __builtin_cpu_supports("ssse3"); }

__attribute__((target("ssse3")))
static size_t shuffle4_ssse3(const uint8_t *src, uint8_t *dst, size_t count) {
    const __m128i gather = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    size_t e = 0;
    for (; e + 16 <= count; e += 16) {
        __m128i v0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 4 * e)), gather);
        __m128i v1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 4 * e + 16)), gather);
        __m128i v2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 4 * e + 32)), gather);
        __m128i v3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 4 * e + 48)), gather);
        __m128i t0 = _mm_unpacklo_epi32(v0, v1), t1 = _mm_unpacklo_epi32(v2, v3);
        __m128i t2 = _mm_unpackhi_epi32(v0, v1), t3 = _mm_unpackhi_epi32(v2, v3);
        _mm_storeu_si128((__m128i *)(dst + e), _mm_unpacklo_epi64(t0, t1));
        _mm_storeu_si128((__m128i *)(dst + count + e), _mm_unpackhi_epi64(t0, t1));
        _mm_storeu_si128((__m128i *)(dst + 2 * count + e), _mm_unpacklo_epi64(t2, t3));
        _mm_storeu_si128((__m128i *)(dst + 3 * count + e), _mm_unpackhi_epi64(t2, t3));
    }
    return e;
}

__attribute__((target("ssse3")))
static size_t unshuffle4_ssse3(const uint8_t *src, uint8_t *dst, size_t count) {
    const __m128i scatter = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    size_t e = 0;
    for (; e + 16 <= count; e += 16) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(src + e));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(src + count + e));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(src + 2 * count + e));
        __m128i r3 = _mm_loadu_si128((const __m128i *)(src + 3 * count + e));
        __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpacklo_epi32(r2, r3);
        __m128i t2 = _mm_unpackhi_epi32(r0, r1), t3 = _mm_unpackhi_epi32(r2, r3);
        _mm_storeu_si128((__m128i *)(dst + 4 * e), _mm_shuffle_epi8(_mm_unpacklo_epi64(t0, t1), scatter));
        _mm_storeu_si128((__m128i *)(dst + 4 * e + 16), _mm_shuffle_epi8(_mm_unpackhi_epi64(t0, t1), scatter));
        _mm_storeu_si128((__m128i *)(dst + 4 * e + 32), _mm_shuffle_epi8(_mm_unpacklo_epi64(t2, t3), scatter));
        _mm_storeu_si128((__m128i *)(dst + 4 * e + 48), _mm_shuffle_epi8(_mm_unpackhi_epi64(t2, t3), scatter));
    }
    return e;
}

__attribute__((target("ssse3")))
static size_t shuffle2_ssse3(const uint8_t *src, uint8_t *dst, size_t count) {
    const __m128i gather = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    size_t e = 0;
    for (; e + 16 <= count; e += 16) {
        __m128i v0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 2 * e)), gather);
        __m128i v1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 2 * e + 16)), gather);
        _mm_storeu_si128((__m128i *)(dst + e), _mm_unpacklo_epi64(v0, v1));
        _mm_storeu_si128((__m128i *)(dst + count + e), _mm_unpackhi_epi64(v0, v1));
    }
    return e;
}

__attribute__((target("ssse3")))
static size_t unshuffle2_ssse3(const uint8_t *src, uint8_t *dst, size_t count) {
    const __m128i scatter = _mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    size_t e = 0;
    for (; e + 16 <= count; e += 16) {
        __m128i r0 = _mm_loadu_si128((const __m128i *)(src + e));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(src + count + e));
        _mm_storeu_si128((__m128i *)(dst + 2 * e), _mm_shuffle_epi8(_mm_unpacklo_epi64(r0, r1), scatter));
        _mm_storeu_si128((__m128i *)(dst + 2 * e + 16), _mm_shuffle_epi8(_mm_unpackhi_epi64(r0, r1), scatter));
    }
    return e;
}
#endif

void hf_shuffle(const uint8_t *src, uint8_t *dst, size_t bytes, size_t element_size) {
    if (element_size <= 1) { memcpy(dst, src, bytes); return; }
    const size_t count = bytes / element_size;
    size_t start = 0;
#if defined(__x86_64__)
    if (has_ssse3()) {
        if (element_size == 4) start = shuffle4_ssse3(src, dst, count);
        else if (element_size == 2) start = shuffle2_ssse3(src, dst, count);
    }
#endif
    if (element_size == 4) {
        for (size_t e = start; e < count; e++) {
            dst[e] = src[4 * e]; dst[count + e] = src[4 * e + 1];
            dst[2 * count + e] = src[4 * e + 2]; dst[3 * count + e] = src[4 * e + 3];
        }
    } else if (element_size == 2) {
        for (size_t e = start; e < count; e++) { dst[e] = src[2 * e]; dst[count + e] = src[2 * e + 1]; }
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
    size_t start = 0;
#if defined(__x86_64__)
    if (has_ssse3()) {
        if (element_size == 4) start = unshuffle4_ssse3(src, dst, count);
        else if (element_size == 2) start = unshuffle2_ssse3(src, dst, count);
    }
#endif
    if (element_size == 4) {
        for (size_t e = start; e < count; e++) {
            dst[4 * e] = src[e]; dst[4 * e + 1] = src[count + e];
            dst[4 * e + 2] = src[2 * count + e]; dst[4 * e + 3] = src[3 * count + e];
        }
    } else if (element_size == 2) {
        for (size_t e = start; e < count; e++) { dst[2 * e] = src[e]; dst[2 * e + 1] = src[count + e]; }
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

size_t hf_compress(int codec, int level, const void *src, size_t bytes, size_t planes, void *dst, size_t capacity) {
    switch (codec) {
    case HF_CODEC_DEFLATE: {
        // Level 1 is the run-only encoder (hf_deflate_runs.c, docs/decisions.md 37): on shuffled CT floats about
        // 1.5x ISA-L's level 1 and slightly smaller (2-4% larger on int16). If its output does not fit, libdeflate
        // tries.
        if (level == 1) {
            size_t n = hf_deflate_runs_zlib(src, bytes, planes > 1 ? bytes / planes : bytes, dst, capacity);
            if (n) return n;
        }
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

// ---- Blosc 1 (HDF5 filter 32001) ----------------------------------------------------------------------------------
// One block per chunk (docs/decisions.md 51): a reader decodes a chunk in one call, and the format is exactly what
// hdf5plugin's and PyTables' Blosc filter write for the same settings. The context functions keep no global state.

static const char *blosc_name(int compressor) {
    switch (compressor) {
    case HF_BLOSC_BLOSCLZ: return BLOSC_BLOSCLZ_COMPNAME;
    case HF_BLOSC_LZ4: return BLOSC_LZ4_COMPNAME;
    case HF_BLOSC_LZ4HC: return BLOSC_LZ4HC_COMPNAME;
    case HF_BLOSC_ZSTD: return BLOSC_ZSTD_COMPNAME;
    default: return NULL;
    }
}

size_t hf_blosc_compress(int compressor, int clevel, size_t typesize, const void *src, size_t bytes, void *dst,
                         size_t capacity) {
    const char *name = blosc_name(compressor);
    if (!name || bytes == 0 || bytes > BLOSC_MAX_BUFFERSIZE || clevel < 1 || clevel > 9 || typesize == 0) return 0;
    // Blocks of HF_BLOSC_BLOCK_BYTES. c-blosc multiplies a forced block size by the type size when it splits blocks
    // into byte streams (every compressor but zstd, in its default split mode), so ask for that much less there.
    size_t forced = compressor == HF_BLOSC_ZSTD ? HF_BLOSC_BLOCK_BYTES : HF_BLOSC_BLOCK_BYTES / typesize;
    if (forced == 0) forced = 1;
    int n = blosc_compress_ctx(clevel, BLOSC_SHUFFLE, typesize, bytes, src, dst, capacity, name, forced, 1);
    return n > 0 ? (size_t)n : 0;
}

int hf_blosc_decompress(const void *src, size_t bytes, void *dst, size_t expected) {
    size_t nbytes = 0, cbytes = 0, blocksize = 0;
    if (bytes < BLOSC_MIN_HEADER_LENGTH) return -1;
    blosc_cbuffer_sizes(src, &nbytes, &cbytes, &blocksize);
    if (nbytes != expected || cbytes != bytes) return -1;
    int n = blosc_decompress_ctx(src, dst, expected, 1);
    return n == (int)expected ? 0 : -1;
}
