// Deflate with run matching only; see hf_deflate_runs.c. Private to CCodecs.
#ifndef HF_DEFLATE_RUNS_H
#define HF_DEFLATE_RUNS_H

#include <stddef.h>

/// Compresses `bytes` of `source` into a zlib stream in `destination`. `segment` is the size of the parts with
/// different statistics (a shuffled chunk's byte planes: bytes / element size; `bytes` or 0 when there are none):
/// no deflate block crosses from one into the next. Returns the stream's size, or 0 when it would not fit in
/// `capacity` (or the parse's memory could not be had).
size_t hf_deflate_runs_zlib(const void *source, size_t bytes, size_t segment, void *destination, size_t capacity);

#endif
