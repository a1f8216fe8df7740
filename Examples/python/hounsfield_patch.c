/*
 * The chunk loop of hounsfield_shards.py's fast patch path, in C.
 *
 * A random 96³ patch from a training shard (32³ Blosc chunks) touches about 64 chunks. Looping over them in Python
 * costs ~85 µs a chunk (index lookup, header check, a ctypes call, a numpy copy), more than decoding them; this loop
 * does the same work for a whole region in one call. It has no dependencies: c-blosc's two decode functions are
 * handed in as pointers by the reader, which already found c-blosc (in hdf5plugin, Debian's libblosc1, or the blosc
 * package), so it builds with any C compiler and nothing else:
 *
 *     cc -O2 -shared -fPIC -o hounsfield_patch.so hounsfield_patch.c
 *
 * (the reader does this itself, once, into ~/.cache/hounsfield; see docs/format.md, "Reading patches fast").
 *
 * It reads what docs/format.md promises of a Blosc dataset and checks every chunk before trusting it: a record past
 * the end of the file, an unfiltered chunk of the wrong size, a buffer whose Blosc header does not describe a chunk
 * of this dataset, and a decode that fails are each an error naming the chunk, never a read out of bounds.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** c-blosc 1.x's blosc_decompress_ctx and blosc_getitem. */
typedef int (*hf_blosc_decompress)(const void *source, void *destination, size_t destination_size, int threads);
typedef int (*hf_blosc_getitem)(const void *source, int start, int items, void *destination);

/** What went wrong with the chunk hf_read_region reports in *failed_chunk (its flat index in the chunk grid). */
enum hf_read_status {
    HF_READ_OK = 0,
    HF_READ_PAST_END = 1,     /* the chunk's record points past the end of the file */
    HF_READ_RAW_SIZE = 2,     /* stored unfiltered (filter mask bit 0) but not one chunk's bytes */
    HF_READ_NOT_BLOSC = 3,    /* the stored bytes are not a Blosc buffer of one chunk */
    HF_READ_DECODE = 4,       /* c-blosc could not decode them */
    HF_READ_ARGUMENTS = 5     /* the region, the chunk shape or the item size make no sense */
};

/** The version of this file's interface; the reader refuses a library built from another. */
int hf_patch_interface_version(void) { return 1; }

static uint32_t little_endian_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/**
 * Copies the region start..start+size of a chunked 3-D dataset into `out` (C order, size[0]×size[1]×size[2] items).
 *
 * file, file_size: the shard, memory-mapped. offsets, sizes, masks: per chunk in C order of the chunk grid
 * (grid[0]×grid[1]×grid[2]), the byte offset of its stored bytes in the file (-1: never written, so the fill value),
 * their length and the HDF5 filter mask. chunk: the chunk shape; item_size: bytes per voxel; fill: one voxel's bytes.
 * scratch: room for one decoded chunk. Returns an hf_read_status; on an error *failed_chunk is the chunk's index.
 */
int hf_read_region(const uint8_t *file, uint64_t file_size, const int64_t *offsets, const int64_t *sizes,
                   const uint32_t *masks, const int64_t *grid, const int64_t *chunk, int64_t item_size,
                   const int64_t *start, const int64_t *size, const uint8_t *fill, uint8_t *out, uint8_t *scratch,
                   hf_blosc_decompress decompress, hf_blosc_getitem getitem, int64_t *failed_chunk) {
    *failed_chunk = -1;
    if (item_size <= 0 || chunk[0] <= 0 || chunk[1] <= 0 || chunk[2] <= 0) return HF_READ_ARGUMENTS;
    for (int axis = 0; axis < 3; axis++) {
        if (start[axis] < 0 || size[axis] < 0 || start[axis] + size[axis] > grid[axis] * chunk[axis])
            return HF_READ_ARGUMENTS;
        if (size[axis] == 0) return HF_READ_OK;
    }
    const int64_t plane_items = chunk[1] * chunk[2];
    const int64_t chunk_bytes = chunk[0] * plane_items * item_size;
    if (chunk_bytes > INT32_MAX) return HF_READ_ARGUMENTS; /* c-blosc 1.x buffers are at most 2 GiB */
    int64_t first[3], last[3];
    for (int axis = 0; axis < 3; axis++) {
        first[axis] = start[axis] / chunk[axis];
        last[axis] = (start[axis] + size[axis] - 1) / chunk[axis];
    }
    for (int64_t cz = first[0]; cz <= last[0]; cz++) {
        const int64_t z0 = max64(start[0], cz * chunk[0]), z1 = min64(start[0] + size[0], (cz + 1) * chunk[0]);
        for (int64_t cy = first[1]; cy <= last[1]; cy++) {
            const int64_t y0 = max64(start[1], cy * chunk[1]), y1 = min64(start[1] + size[1], (cy + 1) * chunk[1]);
            for (int64_t cx = first[2]; cx <= last[2]; cx++) {
                const int64_t x0 = max64(start[2], cx * chunk[2]);
                const int64_t x1 = min64(start[2] + size[2], (cx + 1) * chunk[2]);
                const int64_t index = (cz * grid[1] + cy) * grid[2] + cx;
                const size_t row_bytes = (size_t)((x1 - x0) * item_size);
                const int64_t offset = offsets[index], stored = sizes[index];
                /* source: the chunk's voxels from slice first_slice on (all of the chunk, or the slices decoded) */
                const uint8_t *source = NULL;
                int64_t first_slice = cz * chunk[0];
                if (offset < 0) {
                    /* never written: HDF5 returns the fill value */
                    for (int64_t z = z0; z < z1; z++)
                        for (int64_t y = y0; y < y1; y++) {
                            uint8_t *row = out + (((z - start[0]) * size[1] + (y - start[1])) * size[2]
                                                  + (x0 - start[2])) * item_size;
                            for (int64_t x = x0; x < x1; x++, row += item_size) memcpy(row, fill, (size_t)item_size);
                        }
                    continue;
                }
                if (stored < 0 || (uint64_t)offset > file_size || (uint64_t)stored > file_size - (uint64_t)offset) {
                    *failed_chunk = index;
                    return HF_READ_PAST_END;
                }
                const uint8_t *bytes = file + offset;
                if (masks[index] & 1u) {
                    /* the filter was skipped when the chunk was written: stored as it is */
                    if (stored != chunk_bytes) {
                        *failed_chunk = index;
                        return HF_READ_RAW_SIZE;
                    }
                    source = bytes;
                } else {
                    if (stored < 16 || little_endian_u32(bytes + 4) != (uint32_t)chunk_bytes
                        || little_endian_u32(bytes + 12) > (uint64_t)stored) {
                        *failed_chunk = index;
                        return HF_READ_NOT_BLOSC;
                    }
                    const int64_t lz = z0 - cz * chunk[0], hz = z1 - cz * chunk[0];
                    if (hz - lz < chunk[0]) {
                        /* only the slices the region needs: c-blosc decodes just the blocks that hold them */
                        const int64_t items = (hz - lz) * plane_items;
                        if (getitem(bytes, (int)(lz * plane_items), (int)items, scratch) != items * item_size) {
                            *failed_chunk = index;
                            return HF_READ_DECODE;
                        }
                        first_slice = z0;
                    } else if (decompress(bytes, scratch, (size_t)chunk_bytes, 1) != chunk_bytes) {
                        *failed_chunk = index;
                        return HF_READ_DECODE;
                    }
                    source = scratch;
                }
                for (int64_t z = z0; z < z1; z++)
                    for (int64_t y = y0; y < y1; y++) {
                        uint8_t *row = out + (((z - start[0]) * size[1] + (y - start[1])) * size[2]
                                              + (x0 - start[2])) * item_size;
                        const uint8_t *from = source + (((z - first_slice) * chunk[1] + (y - cy * chunk[1])) * chunk[2]
                                                        + (x0 - cx * chunk[2])) * item_size;
                        memcpy(row, from, row_bytes);
                    }
            }
        }
    }
    return HF_READ_OK;
}
