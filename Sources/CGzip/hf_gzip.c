#include "hf_gzip.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <zlib.h>

/// One gzip member whose trailer states its size: libdeflate inflates it in one call, 2–3× faster than zlib's
/// streaming inflate (a 512×512×300 int16 `.nii.gz` is most of a NIfTI volume's decoding time). Returns
/// HF_GZIP_OK with the buffer, or -1 when the fast path does not apply (several members, a size that is not the
/// trailer's, a damaged stream: zlib then decides and reports).
static int inflate_single_member(const uint8_t *src, size_t bytes, size_t size, uint8_t **out, size_t *out_bytes) {
    struct libdeflate_decompressor *decompressor = libdeflate_alloc_decompressor();
    if (decompressor == NULL) return -1;
    uint8_t *buffer = malloc(size > 0 ? size : 1);
    if (buffer == NULL) { libdeflate_free_decompressor(decompressor); return -1; }
    size_t consumed = 0, produced = 0;
    enum libdeflate_result result = libdeflate_gzip_decompress_ex(decompressor, src, bytes, buffer, size, &consumed, &produced);
    libdeflate_free_decompressor(decompressor);
    // Only the whole input as one member of exactly the trailer's size (trailing zero padding aside) is taken.
    int rest_is_padding = 1;
    for (size_t i = consumed; i < bytes && rest_is_padding; i++) rest_is_padding = src[i] == 0;
    if (result != LIBDEFLATE_SUCCESS || produced != size || !rest_is_padding) { free(buffer); return -1; }
    *out = buffer;
    *out_bytes = produced;
    return HF_GZIP_OK;
}

int hf_gzip_inflate(const void *src, size_t bytes, size_t size_hint, size_t limit, uint8_t **out, size_t *out_bytes) {
    *out = NULL;
    *out_bytes = 0;
    if (bytes < 18) return bytes == 0 || ((const uint8_t *)src)[0] == 0x1f ? HF_GZIP_TRUNCATED : HF_GZIP_CORRUPT;
    if (size_hint > 0 && size_hint <= limit && inflate_single_member(src, bytes, size_hint, out, out_bytes) == HF_GZIP_OK) {
        return HF_GZIP_OK;
    }
    size_t capacity = size_hint > 0 && size_hint <= limit ? size_hint : (bytes * 4 < limit ? bytes * 4 : limit);
    if (capacity < 4096) capacity = 4096;
    uint8_t *buffer = malloc(capacity);
    if (buffer == NULL) return HF_GZIP_TOO_LARGE;

    z_stream stream = {0};
    // 16 + MAX_WBITS: gzip framing only (no zlib or raw deflate), with the CRC and length checked.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        free(buffer);
        return HF_GZIP_TOO_LARGE;
    }
    const uint8_t *input = src;
    size_t consumed = 0, produced = 0;
    int result = HF_GZIP_OK;
    for (;;) {
        if (produced == capacity) {
            if (capacity >= limit) { result = HF_GZIP_TOO_LARGE; break; }
            size_t grown = capacity > limit / 2 ? limit : capacity * 2;
            uint8_t *larger = realloc(buffer, grown);
            if (larger == NULL) { result = HF_GZIP_TOO_LARGE; break; }
            buffer = larger;
            capacity = grown;
        }
        // zlib counts in uInt: feed and drain at most 1 GiB a call.
        size_t in_chunk = bytes - consumed < (1u << 30) ? bytes - consumed : (1u << 30);
        size_t out_chunk = capacity - produced < (1u << 30) ? capacity - produced : (1u << 30);
        stream.next_in = (Bytef *)(input + consumed);
        stream.avail_in = (uInt)in_chunk;
        stream.next_out = buffer + produced;
        stream.avail_out = (uInt)out_chunk;
        int status = inflate(&stream, Z_NO_FLUSH);
        consumed += in_chunk - stream.avail_in;
        produced += out_chunk - stream.avail_out;
        if (status == Z_STREAM_END) {
            // Another member may follow; trailing zero padding (some writers add it) ends the stream.
            size_t rest = bytes - consumed;
            int padding = 1;
            for (size_t i = 0; i < rest && padding; i++) padding = input[consumed + i] == 0;
            if (rest == 0 || padding) break;
            if (inflateReset(&stream) != Z_OK) { result = HF_GZIP_CORRUPT; break; }
            continue;
        }
        if (status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_STREAM_ERROR) { result = HF_GZIP_CORRUPT; break; }
        if (status == Z_MEM_ERROR) { result = HF_GZIP_TOO_LARGE; break; }
        if (status == Z_BUF_ERROR || status == Z_OK) {
            if (consumed == bytes && stream.avail_out > 0) { result = HF_GZIP_TRUNCATED; break; }
            continue;
        }
        result = HF_GZIP_CORRUPT;
        break;
    }
    inflateEnd(&stream);
    if (result != HF_GZIP_OK) {
        free(buffer);
        return result;
    }
    *out = buffer;
    *out_bytes = produced;
    return HF_GZIP_OK;
}

int hf_gzip_inflate_prefix(const void *src, size_t bytes, uint8_t *out, size_t capacity, size_t *out_bytes) {
    *out_bytes = 0;
    z_stream stream = {0};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return HF_GZIP_TOO_LARGE;
    // A prefix is small (headers, the first voxels): one call of at most 1 GiB each way is enough.
    stream.next_in = (Bytef *)src;
    stream.avail_in = (uInt)(bytes < (1u << 30) ? bytes : (1u << 30));
    stream.next_out = out;
    stream.avail_out = (uInt)(capacity < (1u << 30) ? capacity : (1u << 30));
    int status = inflate(&stream, Z_SYNC_FLUSH);
    size_t produced = (capacity < (1u << 30) ? capacity : (1u << 30)) - stream.avail_out;
    inflateEnd(&stream);
    if (status == Z_DATA_ERROR || status == Z_NEED_DICT || status == Z_STREAM_ERROR) return HF_GZIP_CORRUPT;
    *out_bytes = produced;
    return HF_GZIP_OK;
}

int hf_gzip_deflate(const void *src, size_t bytes, int level, uint8_t **out, size_t *out_bytes) {
    *out = NULL;
    *out_bytes = 0;
    z_stream stream = {0};
    // 16 + MAX_WBITS: a gzip header and trailer (CRC-32, ISIZE) around the deflate data.
    if (deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return HF_GZIP_TOO_LARGE;
    size_t capacity = deflateBound(&stream, (uLong)(bytes < (1u << 30) ? bytes : (1u << 30))) + (bytes >> 8) + 64;
    uint8_t *buffer = malloc(capacity);
    if (buffer == NULL) { deflateEnd(&stream); return HF_GZIP_TOO_LARGE; }
    const uint8_t *input = src;
    size_t consumed = 0, produced = 0;
    for (;;) {
        if (produced == capacity) {
            uint8_t *larger = realloc(buffer, capacity * 2);
            if (larger == NULL) { free(buffer); deflateEnd(&stream); return HF_GZIP_TOO_LARGE; }
            buffer = larger;
            capacity *= 2;
        }
        size_t in_chunk = bytes - consumed < (1u << 30) ? bytes - consumed : (1u << 30);
        size_t out_chunk = capacity - produced < (1u << 30) ? capacity - produced : (1u << 30);
        stream.next_in = (Bytef *)(input + consumed);
        stream.avail_in = (uInt)in_chunk;
        stream.next_out = buffer + produced;
        stream.avail_out = (uInt)out_chunk;
        int finish = consumed + in_chunk == bytes ? Z_FINISH : Z_NO_FLUSH;
        int status = deflate(&stream, finish);
        consumed += in_chunk - stream.avail_in;
        produced += out_chunk - stream.avail_out;
        if (status == Z_STREAM_END) break;
        if (status != Z_OK && status != Z_BUF_ERROR) { free(buffer); deflateEnd(&stream); return HF_GZIP_TOO_LARGE; }
    }
    deflateEnd(&stream);
    *out = buffer;
    *out_bytes = produced;
    return HF_GZIP_OK;
}
