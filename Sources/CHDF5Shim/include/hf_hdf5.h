// The HDF5 calls Hounsfield's shards need, as plain C with integer handles. No HDF5 type, macro or error stack
// crosses this header: failures return a negative value and leave a message for `hf5_last_error` (per thread).
// HDF5 itself (Debian's thread-safe build) serialises every call behind one global lock; the point of this API is
// to keep those calls few and cheap (direct chunk I/O), while compression runs elsewhere on all cores.
#ifndef HF_HDF5_H
#define HF_HDF5_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t hf5_id;

/// Element types, as Hounsfield names them.
enum {
    HF5_FLOAT32 = 1, HF5_FLOAT16 = 2, HF5_INT16 = 3, HF5_UINT8 = 4, HF5_INT32 = 5, HF5_UINT16 = 6,
    HF5_FLOAT64 = 7, HF5_INT64 = 8, HF5_STRING = 9,
};

/// HDF5 filter ids used by shards.
enum { HF5_FILTER_DEFLATE = 1, HF5_FILTER_SHUFFLE = 2, HF5_FILTER_ZSTD = 32015, HF5_FILTER_LZ4 = 32004, HF5_FILTER_BLOSC = 32001 };

/// The message of the last failure on this thread. When a system call failed under HDF5, its error ends the
/// driver's message as "<strerror> (errno N)", e.g. "file write failed: No space left on device (errno 28)".
const char *hf5_last_error(void);
/// HDF5's version, e.g. "1.10.8".
void hf5_library_version(char *buffer, size_t capacity);

// ---- files and groups ----
/// Creates (truncating) a file for writing, with object time tracking off so equal content gives equal bytes.
hf5_id hf5_file_create(const char *path);
hf5_id hf5_file_open(const char *path, int writable);
/// Flushes a file's caches to disk. After a failed flush, HDF5 1.10 can no longer close the file normally: discard it
/// (`hf5_file_discard`).
int hf5_file_flush(hf5_id file);
/// Closes a file being written: flushes it first, then closes it. When the flush fails (a full disk, an I/O error)
/// the file is discarded (`hf5_file_discard`) and -1 returned with the flush's error; -2 when HDF5 could not release
/// the file even so (a failed H5Fclose may leave the id registered, its memory freed). Never use the id again after
/// this call, whatever it returns, nor any object opened in the file (files created here close them with it).
int hf5_file_close(hf5_id file);
/// Closes a file that will never be published, without writing to its disk again: its descriptor is pointed at an
/// anonymous in-memory file first, so the close succeeds on a full disk or in a removed folder; the bytes on disk
/// stay as they were. Never use the id again after this call; -1 when HDF5 still reported a failure.
int hf5_file_discard(hf5_id file);
/// Closes a group, dataset, attribute, or a file opened for reading.
int hf5_close(hf5_id object);
hf5_id hf5_group_create(hf5_id location, const char *name);
hf5_id hf5_group_open(hf5_id location, const char *name);
/// 1 when a link `name` exists at `location`, 0 when not, negative on failure.
int hf5_exists(hf5_id location, const char *name);
/// Number of links in a group.
int64_t hf5_group_count(hf5_id group);
/// Name of link `index` (by name order). Returns the name's length (which may exceed `capacity − 1`, then the
/// name is truncated), negative on failure.
int64_t hf5_group_name(hf5_id group, uint64_t index, char *buffer, size_t capacity);

// ---- datasets ----
/// Creates a chunked dataset. `filters` lists the pipeline in write order (e.g. shuffle, deflate), `levels` the
/// parameter of each (deflate level, zstd level, LZ4 block size; ignored for shuffle; for Blosc the level in bits 0-7
/// and the compressor code in bits 8-15, from which the shim writes the seven `cd_values` of HDF5's Blosc filter:
/// 2, 2, element size, chunk bytes, level, 1 (byte shuffle), compressor). Filters are declared optional, so chunks
/// may be stored unfiltered (filter mask) when compressing did not help.
hf5_id hf5_dataset_create(hf5_id location, const char *name, int type, int rank, const uint64_t *dims,
                          const uint64_t *chunk, int filter_count, const int *filters, const unsigned *levels);
hf5_id hf5_dataset_open(hf5_id location, const char *name);
/// Element type, rank and dimensions; `chunk` gets zeros for a contiguous dataset. `rank` in: capacity of the arrays.
int hf5_dataset_shape(hf5_id dataset, int *type, int *rank, uint64_t *dims, uint64_t *chunk);
/// The filter pipeline in write order: ids and first parameter. Returns the number of filters (may exceed
/// `capacity`), negative on failure.
int hf5_dataset_filters(hf5_id dataset, int *filters, unsigned *parameters, int capacity);
/// Bytes the dataset occupies in the file.
int64_t hf5_dataset_storage_size(hf5_id dataset);
/// Stores one chunk as given (already filtered), at element offset `offset`.
int hf5_write_chunk(hf5_id dataset, int rank, const uint64_t *offset, uint32_t filter_mask, const void *data, size_t bytes);
/// Bytes stored for the chunk at `offset` (0 when the chunk was never written).
int64_t hf5_chunk_size(hf5_id dataset, int rank, const uint64_t *offset);
/// Reads one stored chunk as stored (still filtered); `filter_mask` gets the chunk's mask.
int hf5_read_chunk(hf5_id dataset, int rank, const uint64_t *offset, uint32_t *filter_mask, void *buffer);
/// Reads a hyperslab through HDF5's own filters (used for contiguous datasets).
int hf5_read_region(hf5_id dataset, int type, int rank, const uint64_t *start, const uint64_t *count, void *buffer);
/// Writes a whole dataset through HDF5 (used for small or contiguous data).
int hf5_write_all(hf5_id dataset, int type, const void *buffer);

// ---- attributes ----
/// Writes (replacing) a numeric attribute; rank 0 is a scalar.
int hf5_attribute_write(hf5_id location, const char *name, int type, int rank, const uint64_t *dims, const void *data);
/// Writes (replacing) variable-length UTF-8 strings; `rank` 0 writes `strings[0]` as a scalar.
int hf5_attribute_write_strings(hf5_id location, const char *name, int rank, const char *const *strings, size_t count);
/// 1 when the attribute exists, 0 when not.
int hf5_attribute_exists(hf5_id location, const char *name);
/// The attribute's element kind (HF5_FLOAT64 for any float, HF5_INT64 for any integer, HF5_STRING) and element count.
int hf5_attribute_info(hf5_id location, const char *name, int *kind, uint64_t *count);
/// Reads numbers converted to double or int64; `count` must equal the attribute's element count.
int hf5_attribute_read_doubles(hf5_id location, const char *name, double *values, size_t count);
int hf5_attribute_read_int64s(hf5_id location, const char *name, int64_t *values, size_t count);
/// Reads string `index` of a string attribute (fixed or variable length). Returns its length in bytes (copying at
/// most `capacity − 1` bytes and a terminating zero), negative on failure.
int64_t hf5_attribute_read_string(hf5_id location, const char *name, size_t index, char *buffer, size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
