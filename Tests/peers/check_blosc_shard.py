"""Reads one volume of a training-layout shard (Blosc 1, HDF5 filter 32001) three ways and prints one JSON object
the Swift tests assert on: plain h5py + hdf5plugin (no Hounsfield code), the Python reader's fast path
(Examples/python/hounsfield_shards.py: chunks read from a memory map and decoded by c-blosc, in its C loop and in its
Python loop) for the whole volume and for patches, each compared byte for byte with the voxels Swift wrote (a raw little-endian float32 file); and the
stored format: chunk shape, filter pipeline and cd_values, and every chunk's Blosc header (docs/decisions.md 51).
Usage: check_blosc_shard.py SHARD KEY RAW_FLOAT32."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Examples", "python"))

import h5py  # noqa: E402
import hdf5plugin  # noqa: E402,F401  (registers the Blosc filter with h5py)
import numpy as np  # noqa: E402

import hounsfield_shards as hs  # noqa: E402


def main(shard, key, raw):
    report = {}
    path = f"volumes/{key}/image"
    with h5py.File(shard, "r") as f:
        dataset = f[path]
        expected = np.fromfile(raw, dtype="<f4").reshape(dataset.shape)
        plain = dataset[()]
        report["h5py_identical"] = plain.dtype == np.float32 and plain.tobytes() == expected.tobytes()
        report["chunks"] = list(dataset.chunks)
        plist = dataset.id.get_create_plist()
        report["filters"] = []
        for i in range(plist.get_nfilters()):
            code, flags, values, name = plist.get_filter(i)
            report["filters"].append({"id": int(code), "optional": bool(flags & 1), "cd_values": [int(v) for v in values]})
        headers, raw_chunks = set(), 0
        for i in range(dataset.id.get_num_chunks()):
            info = dataset.id.get_chunk_info(i)
            mask, data = dataset.id.read_direct_chunk(info.chunk_offset)
            if mask:
                raw_chunks += 1
                continue
            version, lz_version, flags, typesize = data[0], data[1], data[2], data[3]
            nbytes, blocksize, cbytes = np.frombuffer(data[4:16], dtype="<u4").tolist()
            headers.add((version, flags, typesize, nbytes, blocksize, int(cbytes == len(data))))
        report["chunk_headers"] = [list(h) for h in sorted(headers)]
        report["raw_chunks"] = raw_chunks
        report["layout_attribute"] = hs._decode(f[f"volumes/{key}"].attrs.get("layout"))

    report["fast_path_library"] = hs.fast_path_available()
    report["read_path"] = hs.blosc_read_path()
    report["native_loop_problem"] = hs._NativeLoop.why
    report["fast_path"] = True
    report["fast_identical"] = report["fast_patches_identical"] = True
    for name in ("native", "python"):  # both loops over chunks read straight from the file
        os.environ["HOUNSFIELD_PATCH_READER"] = name
        reader = hs._Shard(shard)
        try:
            report["fast_path"] &= reader.index(path).reader == name
            whole = reader.read(path, tuple(slice(0, n) for n in expected.shape))
            report["fast_identical"] &= whole.tobytes() == expected.tobytes()
            rng = np.random.default_rng(7)
            for _ in range(20):
                size = [int(rng.integers(1, n + 1)) for n in expected.shape]
                start = [int(rng.integers(0, n - s + 1)) for n, s in zip(expected.shape, size)]
                region = tuple(slice(a, a + s) for a, s in zip(start, size))
                report["fast_patches_identical"] &= \
                    reader.read(path, region).tobytes() == np.ascontiguousarray(expected[region]).tobytes()
        finally:
            reader.close()
    for name in ("fast_path", "fast_identical", "fast_patches_identical"):
        report[name] = bool(report[name])
    report["h5py_identical"] = bool(report["h5py_identical"])
    print(json.dumps(report))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: check_blosc_shard.py SHARD KEY RAW_FLOAT32")
    main(*sys.argv[1:])
