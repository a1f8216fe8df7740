"""The physical floors beside the end-to-end job (issue 7): how fast could each stage be at best on this machine?

    python floors.py INPUT_FOLDER SHARD_FILE --voxels N [--repeats R]

- read: every input file's bytes from page cache (no parsing, no decoding): the floor under decoding;
- copy: one plain memory copy of the output's bytes (N float32 voxels, both buffers touched first): the floor under
  any transform that writes the output once;
- disk: the shard's own bytes written to a new file beside it and fsynced: the floor under writing (the stored,
  compressed size; compression itself is extra work on top).
Prints one JSON line with the median of each, in seconds.
"""
import argparse
import json
import os
import time

import numpy as np

from common import median

parser = argparse.ArgumentParser()
parser.add_argument("input")
parser.add_argument("shard")
parser.add_argument("--voxels", type=int, required=True)
parser.add_argument("--repeats", type=int, default=3)
arguments = parser.parse_args()

files = [os.path.join(root, name) for root, _, names in os.walk(arguments.input) for name in names]


def read_inputs():
    for path in files:
        with open(path, "rb") as file:
            file.read()


source = np.ones(arguments.voxels, dtype=np.float32)
target = np.zeros(arguments.voxels, dtype=np.float32)


def copy_output():
    np.copyto(target, source)


with open(arguments.shard, "rb") as file:
    stored = file.read()
scratch = arguments.shard + ".floor"


def write_to_disk():
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view, done = memoryview(stored), 0
        while done < len(stored):
            done += os.write(descriptor, view[done:])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
        os.unlink(scratch)


result = {"input_bytes": sum(os.path.getsize(path) for path in files), "output_bytes": arguments.voxels * 4,
          "stored_bytes": len(stored)}
for name, step in [("read_s", read_inputs), ("copy_s", copy_output), ("disk_s", write_to_disk)]:
    step()  # warm: page cache, first-touch faults
    times = []
    for _ in range(arguments.repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    result[name] = median(times)
print(json.dumps(result))
