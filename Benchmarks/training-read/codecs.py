"""Blosc 1 settings on the training layout's 32³ chunks, one core: bytes, encode speed and decode time per chunk.

Reads the `.npy` copies that `prepare.py` writes (DATA/npy), cuts each volume into 32³ float32 chunks (edges
zero-padded, as HDF5 pads them) and compresses every chunk with each setting through python-blosc (c-blosc 1.21, what
hdf5plugin and Debian ship). Sizes are relative to the preset (LZ4 9, byte shuffle, 64 KiB blocks); absolute sizes
depend on the data.

Usage: python codecs.py DATA [--volumes 6]"""
import argparse
import glob
import os
import time

import blosc
import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data")
parser.add_argument("--volumes", type=int, default=6)
args = parser.parse_args()

SETTINGS = [  # (codec, shuffle, level, block bytes)
    ("lz4", blosc.SHUFFLE, 9, 65536),  # the preset (decisions 52 and 65)
    ("lz4", blosc.BITSHUFFLE, 9, 65536),
    ("lz4hc", blosc.SHUFFLE, 9, 65536),
    ("lz4hc", blosc.BITSHUFFLE, 1, 65536),
    ("blosclz", blosc.BITSHUFFLE, 9, 65536),
    ("zstd", blosc.BITSHUFFLE, 1, 65536),
]
blosc.set_nthreads(1)
results = {setting: [0, 0.0, 0.0] for setting in SETTINGS}
raw = chunks_total = 0
for path in sorted(glob.glob(os.path.join(args.data, "npy", "*.npy")))[:args.volumes]:
    volume = np.load(path)
    chunks = []
    for z in range(0, volume.shape[0], 32):
        for y in range(0, volume.shape[1], 32):
            for x in range(0, volume.shape[2], 32):
                chunk = np.zeros((32, 32, 32), np.float32)
                part = volume[z:z + 32, y:y + 32, x:x + 32]
                chunk[:part.shape[0], :part.shape[1], :part.shape[2]] = part
                chunks.append(chunk.tobytes())
    raw += sum(len(c) for c in chunks)
    chunks_total += len(chunks)
    for setting in SETTINGS:
        codec, shuffle, level, block = setting
        blosc.set_blocksize(block)
        start = time.perf_counter()
        packed = [blosc.compress(c, typesize=4, clevel=level, shuffle=shuffle, cname=codec) for c in chunks]
        encoded = time.perf_counter()
        for c in packed:
            blosc.decompress(c)
        decoded = time.perf_counter()
        totals = results[setting]
        totals[0] += sum(len(c) for c in packed)
        totals[1] += encoded - start
        totals[2] += decoded - encoded

preset = results[SETTINGS[0]][0]
print("%d chunks, %.0f MB raw" % (chunks_total, raw / 1e6))
print("%-10s %-11s %5s %9s %14s %15s" % ("codec", "shuffle", "level", "× preset", "encode MB/s", "decode µs/chunk"))
for (codec, shuffle, level, _), (size, encode, decode) in results.items():
    name = {blosc.SHUFFLE: "byte", blosc.BITSHUFFLE: "bit"}[shuffle]
    print("%-10s %-11s %5d %9.3f %14.0f %15.1f" % (codec, name, level, size / preset, raw / encode / 1e6,
                                                   decode / chunks_total * 1e6))
