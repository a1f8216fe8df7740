"""Writes the layouts that bench.py compares, from one Hounsfield output folder (slabs, gzip 1 by default).

Every Hounsfield layout is a copy of the source shard: same file and group attributes, same manifest, only the
image dataset's chunks and filters differ. Blosc (HDF5 filter 32001) chunks are compressed here with python-blosc
(c-blosc 1.x) and stored with HDF5's direct chunk write, as the Swift writer would; the other HDF5 layouts go
through h5py's normal filter pipeline. nnU-Net's `.b2nd` files are written by nnunetv2's own `save_case`, with the
chunk and block shapes its preprocessor computes for 96³ patches. Folders that exist with a `.complete` marker are
kept, so a second run only measures.
"""

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import h5py
import hdf5plugin
import numpy as np

SHARD = "shard-00000.h5"

# name -> (chunk edge, h5py filter kwargs or None, blosc (cname, clevel, blocksize) or None)
HDF5_LAYOUTS = {
    "cubes64-zstd1": (64, lambda: dict(shuffle=True, **hdf5plugin.Zstd(clevel=1)), None),
    "cubes64-lz4": (64, lambda: dict(shuffle=True, **hdf5plugin.LZ4()), None),
    "cubes32-gzip1": (32, lambda: dict(shuffle=True, compression="gzip", compression_opts=1), None),
    "blosc32-lz4hc5": (32, None, ("lz4hc", 5, 0)),
    "blosc32-lz4hc9": (32, None, ("lz4hc", 9, 0)),
    "blosc32-zstd1": (32, None, ("zstd", 1, 0)),
    "blosc32-lz4-9": (32, None, ("lz4", 9, 0)),  # the Swift writer's training layout (encodes ~50x faster than LZ4HC 9)
    # The same in blocks of 16 slices (c-blosc multiplies a forced blocksize by the typesize when it splits a block
    # into byte streams, and makes it at least 64 KiB): a patch that needs part of a chunk's slices decodes only
    # their blocks.
    "blosc32-lz4-9-blocks16": (32, None, ("lz4", 9, 16384)),
}


def blosc_cd_values(cname, clevel, chunk_bytes, typesize=4):
    """hdf5-blosc's cd_values: filter revision 2, Blosc format 2, typesize, chunk bytes, clevel, shuffle (1 = byte),
    compressor code (c-blosc's BLOSC_LZ4HC = 2, BLOSC_ZSTD = 5)."""
    return (2, 2, typesize, chunk_bytes, clevel, 1, {"blosclz": 0, "lz4": 1, "lz4hc": 2, "snappy": 3, "zlib": 4,
                                                      "zstd": 5}[cname])


def _blosc_volume(args):
    array_path, key, edge, cname, clevel, blocksize = args
    import blosc
    blosc.set_nthreads(1)
    blosc.set_blocksize(blocksize)
    a = np.load(array_path, mmap_mode="r")
    out = []
    Z, Y, X = a.shape
    t = time.perf_counter()
    for z in range(0, Z, edge):
        for y in range(0, Y, edge):
            for x in range(0, X, edge):
                c = np.zeros((edge, edge, edge), np.float32)
                s = a[z:z + edge, y:y + edge, x:x + edge]
                c[:s.shape[0], :s.shape[1], :s.shape[2]] = s
                out.append(((z, y, x), blosc.compress(c.tobytes(), typesize=4, clevel=clevel,
                                                      shuffle=blosc.SHUFFLE, cname=cname)))
    return key, out, time.perf_counter() - t


def write_hdf5_layout(name, source, npy_dir, target):
    edge, filters, blosc_params = HDF5_LAYOUTS[name]
    os.makedirs(target, exist_ok=True)
    encode_seconds = 0.0
    with h5py.File(os.path.join(source, SHARD), "r") as src, h5py.File(os.path.join(target, SHARD), "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        keys = sorted(src["volumes"])
        encoded = {}
        if blosc_params is not None:
            cname, clevel, blocksize = blosc_params
            jobs = [(os.path.join(npy_dir, k + ".npy"), k, edge, cname, clevel, blocksize) for k in keys]
            with ProcessPoolExecutor(2) as pool:
                for key, chunks, seconds in pool.map(_blosc_volume, jobs):
                    encoded[key] = chunks
                    encode_seconds += seconds
        for key in keys:
            group = dst.create_group("volumes/" + key)
            for k, v in src["volumes"][key].attrs.items():
                group.attrs[k] = v
            image = src["volumes"][key]["image"]
            chunks = tuple(min(edge, n) for n in image.shape)
            if blosc_params is None:
                a = image[...]
                t = time.perf_counter()
                group.create_dataset("image", data=a, chunks=chunks, **filters())
                encode_seconds += time.perf_counter() - t
            else:
                cname, clevel, _ = blosc_params
                chunks = (edge,) * 3
                chunk_bytes = int(np.prod(chunks)) * 4
                d = group.create_dataset("image", shape=image.shape, dtype="<f4", chunks=chunks,
                                         compression=32001,
                                         compression_opts=blosc_cd_values(cname, clevel, chunk_bytes))
                for offset, data in encoded[key]:
                    d.id.write_direct_chunk(offset, data, 0)
    shutil.copy(os.path.join(source, "manifest.jsonl"), os.path.join(target, "manifest.jsonl"))
    return encode_seconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--only", default="")
    args = p.parse_args()
    only = set(filter(None, args.only.split(",")))
    os.makedirs(args.data, exist_ok=True)
    report_path = os.path.join(args.data, "prepare.json")
    report = json.load(open(report_path)) if os.path.exists(report_path) else {}

    npy_dir = os.path.join(args.data, "npy")
    if not os.path.exists(npy_dir + ".complete"):
        os.makedirs(npy_dir, exist_ok=True)
        with h5py.File(os.path.join(args.source, SHARD), "r") as src:
            for key in sorted(src["volumes"]):
                np.save(os.path.join(npy_dir, key + ".npy"), src["volumes"][key]["image"][...])
        open(npy_dir + ".complete", "w").close()
    for name in HDF5_LAYOUTS:
        if only and name not in only:
            continue
        target = os.path.join(args.data, name)
        if os.path.exists(target + ".complete"):
            continue
        t = time.perf_counter()
        seconds = write_hdf5_layout(name, args.source, npy_dir, target)
        report[name] = {"encode_seconds_one_core": seconds, "wall_seconds": time.perf_counter() - t}
        open(target + ".complete", "w").close()
        print("prepared %s in %.1f s (encode %.1f s on one core)" % (name, time.perf_counter() - t, seconds), flush=True)

    b2nd = os.path.join(args.data, "b2nd")
    if (not only or "b2nd" in only) and not os.path.exists(b2nd + ".complete"):
        import blosc2
        from nnunetv2.training.dataloading.nnunet_dataset import nnUNetDatasetBlosc2, comp_blosc2_params
        os.makedirs(b2nd, exist_ok=True)
        t = time.perf_counter()
        for name in sorted(os.listdir(npy_dir)):
            data = np.load(os.path.join(npy_dir, name))[None]
            seg = np.zeros(data.shape, np.int16)  # nnU-Net's preprocessor stores the segmentation as int16
            blocks, chunks = comp_blosc2_params(data.shape, (96, 96, 96), data.itemsize)
            blocks_seg, chunks_seg = comp_blosc2_params(seg.shape, (96, 96, 96), seg.itemsize)
            nnUNetDatasetBlosc2.save_case(data, seg, {"spacing": [1.0, 1.0, 1.0]}, os.path.join(b2nd, name[:-4]),
                                          chunks=chunks, blocks=blocks, chunks_seg=chunks_seg,
                                          blocks_seg=blocks_seg)
        report["b2nd"] = {"wall_seconds": time.perf_counter() - t, "chunks": list(chunks), "blocks": list(blocks)}
        print("prepared b2nd: chunks %s blocks %s" % (chunks, blocks), flush=True)
        open(b2nd + ".complete", "w").close()
    json.dump(report, open(report_path, "w"), indent=2)


if __name__ == "__main__":
    sys.exit(main())
