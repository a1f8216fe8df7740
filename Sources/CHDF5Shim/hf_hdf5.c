#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE   // memfd_create
#endif
#include "hf_hdf5.h"

#include <hdf5.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

// ---- errors ------------------------------------------------------------------------------------------------------
// HDF5's error stack and its automatic printing are per thread in the thread-safe build, so each entry point turns
// printing off for its thread and, on failure, copies the stack's messages into a per-thread buffer.

static _Thread_local char last_error[1024];
static _Thread_local int quiet;

// HDF5 closes every file still registered when the process exits (an atexit handler). In HDF5 1.10 a file whose
// H5Fclose failed (a full disk) stays registered although its memory was freed, and that handler then crashes the
// process. Files are always closed explicitly here (shards are published only after their close succeeded), so the
// handler is not needed: it is turned off before the library starts (decision 41).
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void configure_library(void) { H5dont_atexit(); }

static void enter(void) {
    if (!quiet) {
        pthread_once(&library_once, configure_library);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        quiet = 1;
    }
    last_error[0] = 0;
}

/// Appends one message of HDF5's error stack. The file drivers' messages carry the system error
/// ("file write failed: time = …, filename = …, errno = 28, error message = 'No space left on device', buf = …"):
/// it is shortened to what a person needs and ends in "(errno 28)", which `OutputFailure` reads back.
static herr_t collect(unsigned n, const H5E_error2_t *e, void *data) {
    (void)data;
    size_t used = strlen(last_error);
    if (used + 4 >= sizeof last_error || !e->desc || !e->desc[0]) return 0;
    const char *number = strstr(e->desc, "errno = ");
    if (number) {
        int code = atoi(number + strlen("errno = "));
        const char *cut = strstr(e->desc, ": time = ");
        int head = cut ? (int)(cut - e->desc) : (int)strcspn(e->desc, ",");
        snprintf(last_error + used, sizeof last_error - used, "%s%.*s: %s (errno %d)", n == 0 ? "" : "; ", head,
                 e->desc, strerror(code), code);
        return 0;
    }
    snprintf(last_error + used, sizeof last_error - used, "%s%s", n == 0 ? "" : "; ", e->desc);
    return 0;
}

static int fail(const char *what) {
    snprintf(last_error, sizeof last_error, "%s: ", what);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, NULL);
    H5Eclear2(H5E_DEFAULT);
    return -1;
}

const char *hf5_last_error(void) { return last_error; }

void hf5_library_version(char *buffer, size_t capacity) {
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    snprintf(buffer, capacity, "%u.%u.%u", major, minor, release);
}

// ---- types -------------------------------------------------------------------------------------------------------

/// A new type id for an element type (the caller closes it). Float16 is IEEE half precision built from float32's
/// description, which is how h5py spells numpy.float16.
static hid_t make_type(int type) {
    switch (type) {
    case HF5_FLOAT32: return H5Tcopy(H5T_IEEE_F32LE);
    case HF5_FLOAT64: return H5Tcopy(H5T_IEEE_F64LE);
    case HF5_INT16: return H5Tcopy(H5T_STD_I16LE);
    case HF5_UINT8: return H5Tcopy(H5T_STD_U8LE);
    case HF5_INT32: return H5Tcopy(H5T_STD_I32LE);
    case HF5_UINT16: return H5Tcopy(H5T_STD_U16LE);
    case HF5_INT64: return H5Tcopy(H5T_STD_I64LE);
    case HF5_FLOAT16: {
        hid_t t = H5Tcopy(H5T_IEEE_F32LE);
        if (t < 0) return t;
        if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
            H5Tclose(t);
            return -1;
        }
        return t;
    }
    default: return -1;
    }
}

static int classify(hid_t t) {
    H5T_class_t cls = H5Tget_class(t);
    size_t size = H5Tget_size(t);
    if (cls == H5T_FLOAT) return size == 2 ? HF5_FLOAT16 : size == 4 ? HF5_FLOAT32 : size == 8 ? HF5_FLOAT64 : 0;
    if (cls == H5T_INTEGER) {
        int is_signed = H5Tget_sign(t) == H5T_SGN_2;
        if (size == 1 && !is_signed) return HF5_UINT8;
        if (size == 2) return is_signed ? HF5_INT16 : HF5_UINT16;
        if (size == 4 && is_signed) return HF5_INT32;
        if (size == 8 && is_signed) return HF5_INT64;
        return 0;
    }
    if (cls == H5T_STRING) return HF5_STRING;
    return 0;
}

// ---- files and groups --------------------------------------------------------------------------------------------

hf5_id hf5_file_create(const char *path) {
    enter();
    // Closing the file closes every object still open in it, so "closed" always means the lock is released and the
    // bytes are handed to the OS before the shard is fsynced and renamed.
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return file < 0 ? fail(path) : file;
}

hf5_id hf5_file_open(const char *path, int writable) {
    enter();
    hid_t file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    return file < 0 ? fail(path) : file;
}

int hf5_file_flush(hf5_id file) {
    enter();
    return H5Fflush(file, H5F_SCOPE_LOCAL) < 0 ? fail("flush") : 0;
}

/// Points the file's descriptor at an anonymous file in memory, so that whatever HDF5 still writes (its metadata
/// cache, the superblock, the final truncation) cannot fail for a full disk or a removed folder. The bytes on disk
/// stay as they were. Only for files that will never be published.
static int detach_from_disk(hid_t file) {
    int *descriptor = NULL;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, (void **)&descriptor) < 0 || !descriptor || *descriptor < 0) return -1;
    int memory = -1;
#if defined(__linux__)
    memory = memfd_create("hounsfield-discarded-shard", MFD_CLOEXEC);
#endif
    if (memory < 0) {
        FILE *scratch = tmpfile();   // elsewhere: an unlinked temporary file (the system's temporary folder)
        if (!scratch) return -1;
        memory = dup(fileno(scratch));
        fclose(scratch);
        if (memory < 0) return -1;
    }
    int status = dup2(memory, *descriptor) < 0 ? -1 : 0;
    close(memory);
    return status;
}

int hf5_file_close(hf5_id file) {
    enter();
    // A flush first: it writes everything the close would write, so a full disk shows up here, while the file can
    // still be discarded cleanly. After a successful flush the close has (next to) nothing left to write.
    if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
        fail("flush");
        char message[sizeof last_error];
        memcpy(message, last_error, sizeof message);
        int released = hf5_file_discard(file) == 0;
        memcpy(last_error, message, sizeof message);
        return released ? -1 : -2;
    }
    if (H5Fclose(file) < 0) {
        // HDF5 1.10 may keep the id registered after freeing the file: the caller must never use it again.
        fail("close");
        return -2;
    }
    return 0;
}

int hf5_file_discard(hf5_id file) {
    enter();
    if (H5Iget_type(file) != H5I_FILE) {
        snprintf(last_error, sizeof last_error, "discard: %lld is not an open file", (long long)file);
        return -1;
    }
    int detached = detach_from_disk(file) == 0;
    if (detached) {
        // After a failed flush HDF5 1.10's metadata cache is left half prepared (its "slist" enabled and not
        // empty), and a close would fail. Flushing again into memory settles it: the first retry may still
        // report the stale state while writing everything, the next one succeeds (tested in ShardDiskFullTests).
        for (int attempt = 0; attempt < 3 && H5Fflush(file, H5F_SCOPE_LOCAL) < 0; attempt++) H5Eclear2(H5E_DEFAULT);
    }
    if (H5Fclose(file) < 0) {
        fail(detached ? "close of a discarded file" : "close of a discarded file (its descriptor could not be detached)");
        return -1;
    }
    return 0;
}

int hf5_close(hf5_id object) {
    enter();
    herr_t status;
    switch (H5Iget_type(object)) {
    case H5I_FILE: status = H5Fclose(object); break;
    case H5I_GROUP: status = H5Gclose(object); break;
    case H5I_DATASET: status = H5Dclose(object); break;
    case H5I_ATTR: status = H5Aclose(object); break;
    case H5I_DATATYPE: status = H5Tclose(object); break;
    case H5I_DATASPACE: status = H5Sclose(object); break;
    case H5I_GENPROP_LST: status = H5Pclose(object); break;
    default: status = -1;
    }
    return status < 0 ? fail("close") : 0;
}

hf5_id hf5_group_create(hf5_id location, const char *name) {
    enter();
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t group = H5Gcreate2(location, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return group < 0 ? fail(name) : group;
}

hf5_id hf5_group_open(hf5_id location, const char *name) {
    enter();
    hid_t group = H5Gopen2(location, name, H5P_DEFAULT);
    return group < 0 ? fail(name) : group;
}

int hf5_exists(hf5_id location, const char *name) {
    enter();
    htri_t r = H5Lexists(location, name, H5P_DEFAULT);
    return r < 0 ? fail(name) : (int)r;
}

int64_t hf5_group_count(hf5_id group) {
    enter();
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0) return fail("group info");
    return (int64_t)info.nlinks;
}

int64_t hf5_group_name(hf5_id group, uint64_t index, char *buffer, size_t capacity) {
    enter();
    ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, capacity, H5P_DEFAULT);
    return n < 0 ? fail("link name") : (int64_t)n;
}

// ---- datasets ----------------------------------------------------------------------------------------------------

hf5_id hf5_dataset_create(hf5_id location, const char *name, int type, int rank, const uint64_t *dims,
                          const uint64_t *chunk, int filter_count, const int *filters, const unsigned *levels) {
    enter();
    hid_t dtype = make_type(type);
    if (dtype < 0) return fail("element type");
    hsize_t d[8], c[8];
    if (rank < 1 || rank > 8) { H5Tclose(dtype); snprintf(last_error, sizeof last_error, "rank %d", rank); return -1; }
    for (int i = 0; i < rank; i++) { d[i] = dims[i]; c[i] = chunk[i]; }
    hid_t space = H5Screate_simple(rank, d, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    int status = H5Pset_chunk(dcpl, rank, c);
    for (int i = 0; status >= 0 && i < filter_count; i++) {
        switch (filters[i]) {
        case HF5_FILTER_SHUFFLE: status = H5Pset_shuffle(dcpl); break;
        case HF5_FILTER_DEFLATE: status = H5Pset_deflate(dcpl, levels[i]); break;
        case HF5_FILTER_BLOSC: {
            // Blosc 1 (docs/decisions.md 51): filter revision 2, Blosc format 2, element size, chunk bytes, then the
            // level, shuffle (1 = byte) and compressor, as PyTables' and hdf5plugin's Blosc filter record them.
            size_t chunk_bytes = H5Tget_size(dtype);
            for (int k = 0; k < rank; k++) chunk_bytes *= c[k];
            unsigned cd[7] = { 2, 2, (unsigned)H5Tget_size(dtype), (unsigned)chunk_bytes, levels[i] & 0xff, 1,
                               (levels[i] >> 8) & 0xff };
            status = H5Pset_filter(dcpl, (H5Z_filter_t)filters[i], H5Z_FLAG_OPTIONAL, 7, cd);
            break;
        }
        default: {
            // Filters HDF5 itself does not have (zstd, LZ4): declared by id; readers load them as plugins.
            unsigned cd[1] = { levels[i] };
            status = H5Pset_filter(dcpl, (H5Z_filter_t)filters[i], H5Z_FLAG_OPTIONAL, 1, cd);
        }
        }
    }
    hid_t dataset = status < 0 ? -1 : H5Dcreate2(location, name, dtype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int failed = dataset < 0 ? fail(name) : 0;
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(dtype);
    return failed ? -1 : dataset;
}

hf5_id hf5_dataset_open(hf5_id location, const char *name) {
    enter();
    hid_t dataset = H5Dopen2(location, name, H5P_DEFAULT);
    return dataset < 0 ? fail(name) : dataset;
}

int hf5_dataset_shape(hf5_id dataset, int *type, int *rank, uint64_t *dims, uint64_t *chunk) {
    enter();
    hid_t dtype = H5Dget_type(dataset);
    if (dtype < 0) return fail("dataset type");
    *type = classify(dtype);
    H5Tclose(dtype);
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return fail("dataset space");
    int n = H5Sget_simple_extent_ndims(space);
    hsize_t d[32];
    if (n < 0 || n > *rank || n > 32) { H5Sclose(space); snprintf(last_error, sizeof last_error, "rank %d", n); return -1; }
    H5Sget_simple_extent_dims(space, d, NULL);
    H5Sclose(space);
    for (int i = 0; i < n; i++) { dims[i] = d[i]; chunk[i] = 0; }
    *rank = n;
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return fail("dataset properties");
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t c[32];
        if (H5Pget_chunk(dcpl, n, c) == n) for (int i = 0; i < n; i++) chunk[i] = c[i];
    }
    H5Pclose(dcpl);
    return 0;
}

int hf5_dataset_filters(hf5_id dataset, int *filters, unsigned *parameters, int capacity) {
    enter();
    hid_t dcpl = H5Dget_create_plist(dataset);
    if (dcpl < 0) return fail("dataset properties");
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n && i < capacity; i++) {
        unsigned flags = 0, cd[8] = {0}, config = 0;
        size_t cd_count = 8;
        char name[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &cd_count, cd, sizeof name, name, &config);
        filters[i] = (int)id;
        parameters[i] = cd_count > 0 ? cd[0] : 0;
    }
    H5Pclose(dcpl);
    return n < 0 ? fail("filters") : n;
}

int64_t hf5_dataset_storage_size(hf5_id dataset) {
    enter();
    return (int64_t)H5Dget_storage_size(dataset);
}

int hf5_write_chunk(hf5_id dataset, int rank, const uint64_t *offset, uint32_t filter_mask, const void *data, size_t bytes) {
    enter();
    hsize_t o[8];
    for (int i = 0; i < rank && i < 8; i++) o[i] = offset[i];
    return H5Dwrite_chunk(dataset, H5P_DEFAULT, filter_mask, o, bytes, data) < 0 ? fail("write chunk") : 0;
}

int64_t hf5_chunk_size(hf5_id dataset, int rank, const uint64_t *offset) {
    enter();
    hsize_t o[8], size = 0;
    for (int i = 0; i < rank && i < 8; i++) o[i] = offset[i];
    return H5Dget_chunk_storage_size(dataset, o, &size) < 0 ? fail("chunk size") : (int64_t)size;
}

int hf5_read_chunk(hf5_id dataset, int rank, const uint64_t *offset, uint32_t *filter_mask, void *buffer) {
    enter();
    hsize_t o[8];
    for (int i = 0; i < rank && i < 8; i++) o[i] = offset[i];
    return H5Dread_chunk(dataset, H5P_DEFAULT, o, filter_mask, buffer) < 0 ? fail("read chunk") : 0;
}

int hf5_read_region(hf5_id dataset, int type, int rank, const uint64_t *start, const uint64_t *count, void *buffer) {
    enter();
    hsize_t s[8], c[8];
    if (rank < 1 || rank > 8) return -1;
    for (int i = 0; i < rank; i++) { s[i] = start[i]; c[i] = count[i]; }
    hid_t file_space = H5Dget_space(dataset);
    hid_t memory_space = H5Screate_simple(rank, c, NULL);
    hid_t memory_type = make_type(type);
    int status = H5Sselect_hyperslab(file_space, H5S_SELECT_SET, s, NULL, c, NULL);
    if (status >= 0) status = H5Dread(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, buffer);
    int result = status < 0 ? fail("read") : 0;
    H5Tclose(memory_type);
    H5Sclose(memory_space);
    H5Sclose(file_space);
    return result;
}

int hf5_write_all(hf5_id dataset, int type, const void *buffer) {
    enter();
    hid_t memory_type = make_type(type);
    int status = H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    H5Tclose(memory_type);
    return status < 0 ? fail("write") : 0;
}

// ---- attributes --------------------------------------------------------------------------------------------------

static int replace_attribute(hid_t location, const char *name, hid_t type, hid_t space, const void *data) {
    if (H5Aexists(location, name) > 0) H5Adelete(location, name);
    hid_t attribute = H5Acreate2(location, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attribute < 0) return fail(name);
    int status = H5Awrite(attribute, type, data);
    H5Aclose(attribute);
    return status < 0 ? fail(name) : 0;
}

int hf5_attribute_write(hf5_id location, const char *name, int type, int rank, const uint64_t *dims,
                        const void *data) {
    enter();
    hsize_t d[8];
    for (int i = 0; i < rank && i < 8; i++) d[i] = dims[i];
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, d, NULL);
    hid_t dtype = make_type(type);
    int status = replace_attribute(location, name, dtype, space, data);
    H5Tclose(dtype);
    H5Sclose(space);
    return status;
}

int hf5_attribute_write_strings(hf5_id location, const char *name, int rank, const char *const *strings,
                                size_t count) {
    enter();
    hsize_t d[1] = { count };
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, d, NULL);
    hid_t dtype = H5Tcopy(H5T_C_S1);
    H5Tset_size(dtype, H5T_VARIABLE);
    H5Tset_cset(dtype, H5T_CSET_UTF8);
    int status = replace_attribute(location, name, dtype, space, strings);
    H5Tclose(dtype);
    H5Sclose(space);
    return status;
}

int hf5_attribute_exists(hf5_id location, const char *name) {
    enter();
    htri_t r = H5Aexists(location, name);
    return r < 0 ? fail(name) : (int)r;
}

int hf5_attribute_info(hf5_id location, const char *name, int *kind, uint64_t *count) {
    enter();
    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) return fail(name);
    hid_t dtype = H5Aget_type(attribute);
    H5T_class_t cls = H5Tget_class(dtype);
    *kind = cls == H5T_FLOAT ? HF5_FLOAT64 : cls == H5T_INTEGER ? HF5_INT64 : cls == H5T_STRING ? HF5_STRING : 0;
    hid_t space = H5Aget_space(attribute);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    *count = n < 0 ? 0 : (uint64_t)n;
    H5Sclose(space);
    H5Tclose(dtype);
    H5Aclose(attribute);
    return 0;
}

static int read_numbers(hid_t location, const char *name, hid_t memory_type, void *values, size_t count) {
    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) return fail(name);
    hid_t space = H5Aget_space(attribute);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    int status = -1;
    if (n == (hssize_t)count) status = H5Aread(attribute, memory_type, values) < 0 ? fail(name) : 0;
    else snprintf(last_error, sizeof last_error, "%s: has %lld values, expected %zu", name, (long long)n, count);
    H5Aclose(attribute);
    return status;
}

int hf5_attribute_read_doubles(hf5_id location, const char *name, double *values, size_t count) {
    enter();
    return read_numbers(location, name, H5T_NATIVE_DOUBLE, values, count);
}

int hf5_attribute_read_int64s(hf5_id location, const char *name, int64_t *values, size_t count) {
    enter();
    return read_numbers(location, name, H5T_NATIVE_INT64, values, count);
}

int64_t hf5_attribute_read_string(hf5_id location, const char *name, size_t index, char *buffer, size_t capacity) {
    enter();
    hid_t attribute = H5Aopen(location, name, H5P_DEFAULT);
    if (attribute < 0) return fail(name);
    hid_t file_type = H5Aget_type(attribute);
    hid_t space = H5Aget_space(attribute);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int64_t length = -1;
    if (H5Tget_class(file_type) != H5T_STRING || n < 0 || index >= (size_t)n) {
        snprintf(last_error, sizeof last_error, "%s: not a string attribute with an element %zu", name, index);
    } else if (H5Tis_variable_str(file_type) > 0) {
        hid_t memory_type = H5Tcopy(H5T_C_S1);
        H5Tset_size(memory_type, H5T_VARIABLE);
        H5Tset_cset(memory_type, H5Tget_cset(file_type));
        char **strings = calloc((size_t)n, sizeof(char *));
        if (strings && H5Aread(attribute, memory_type, strings) >= 0) {
            const char *s = strings[index] ? strings[index] : "";
            length = (int64_t)strlen(s);
            if (capacity > 0) { snprintf(buffer, capacity, "%s", s); }
            H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, strings);
        } else {
            fail(name);
        }
        free(strings);
        H5Tclose(memory_type);
    } else {
        size_t size = H5Tget_size(file_type);
        char *all = calloc((size_t)n, size + 1);
        hid_t memory_type = H5Tcopy(file_type);
        if (all && H5Aread(attribute, memory_type, all) >= 0) {
            const char *s = all + index * size;
            size_t len = strnlen(s, size);
            length = (int64_t)len;
            if (capacity > 0) {
                size_t copy = len < capacity - 1 ? len : capacity - 1;
                memcpy(buffer, s, copy);
                buffer[copy] = 0;
            }
        } else {
            fail(name);
        }
        free(all);
        H5Tclose(memory_type);
    }
    H5Sclose(space);
    H5Tclose(file_type);
    H5Aclose(attribute);
    return length;
}
