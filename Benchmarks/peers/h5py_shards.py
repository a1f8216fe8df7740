"""The h5py side of the shard benchmark: writes the array hf-bench left in WORK (volume.f32 + volume.json) with the
same chunk shape and filters, and reads it back whole and as the same random patches. Prints one JSON line.

    python h5py_shards.py WORK REPEATS [HOUNSFIELD_SHARD]
"""
import json
import os
import sys
import time

import h5py
import numpy as np

from common import median

try:
    import hdf5plugin  # zstd (32015) and LZ4 (32004) for h5py
except ImportError:  # pragma: no cover
    hdf5plugin = None

work, repeats = sys.argv[1], int(sys.argv[2])
with open(os.path.join(work, "volume.json")) as f:
    description = json.load(f)
shape = tuple(description["shape"])
array = np.fromfile(os.path.join(work, "volume.f32"), dtype="<f4").reshape(shape)
slabs = tuple(description["chunks"]["slabs"])
cubes = tuple(description["chunks"][next(k for k in description["chunks"] if k.startswith("cubes"))])



def timed(body):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return times


def write(path, chunks, **filters):
    def body():
        with h5py.File(path, "w") as f:
            f.create_dataset("ct", data=array, chunks=chunks, **filters)
            f.flush()
            os.fsync(f.id.get_vfd_handle())
    return body


raw = array.nbytes
writes = []
jobs = [("gzip:1", slabs, dict(compression="gzip", compression_opts=1, shuffle=True)),
        ("none", slabs, {}),
        ("gzip:1", cubes, dict(compression="gzip", compression_opts=1, shuffle=True))]
if hdf5plugin is not None:
    jobs.insert(1, ("zstd:1", slabs, dict(shuffle=True, **hdf5plugin.Zstd(clevel=1))))
    jobs.insert(2, ("lz4", slabs, dict(shuffle=True, **hdf5plugin.LZ4())))
for label, chunks, filters in jobs:
    path = os.path.join(work, f"h5py-{label.replace(':', '')}-{'x'.join(map(str, chunks))}.h5")
    times = timed(write(path, chunks, **filters))
    with h5py.File(path, "r") as f:
        stored = f["ct"].id.get_storage_size()
    writes.append({"compression": label, "chunk_shape": list(chunks), "times_s": times, "median_s": median(times),
                   "stored_bytes": stored, "ratio": raw / stored, "mb_per_s": raw / 1e6 / median(times)})

origins = description["origins"]
edge = description["patch"]
reads = []
for label, chunks in [("slabs", slabs), ("cubes", cubes)]:
    path = os.path.join(work, f"h5py-gzip1-{'x'.join(map(str, chunks))}.h5")
    with h5py.File(path, "r") as f:
        dataset = f["ct"]
        whole = timed(lambda: dataset[...])
        patches = timed(lambda: [dataset[z:z + edge[0], y:y + edge[1], x:x + edge[2]] for z, y, x in origins])
        assert np.array_equal(dataset[...], array)
    reads.append({"chunks": label, "whole_times_s": whole, "whole_median_s": median(whole),
                  "whole_mb_per_s": raw / 1e6 / median(whole), "patches_median_s": median(patches),
                  "patches_per_s": len(origins) / median(patches)})
# h5py reads what Hounsfield wrote (gzip + shuffle, no plugin needed) and gets the same values.
same = None
if len(sys.argv) > 3:
    with h5py.File(sys.argv[3], "r") as f:
        same = bool(np.array_equal(f["volumes/ct/image"][...], array))
print(json.dumps({"h5py_reads_hounsfield_shard_equal": same, "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version, "writes": writes, "reads": reads}))
