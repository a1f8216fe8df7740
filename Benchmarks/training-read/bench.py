"""Random 96³ patches and whole volumes from every layout prepare.py wrote, side by side in one run.

Patches: a torch DataLoader (2 workers, batch 2, no shuffling) over one fixed list of (volume, start) pairs, the
same for every layout; the first --warmup patches are not timed, the next --patches are. Each worker times its own
fetch (reading + decoding a patch into a float32 array and a tensor), so a patch's cost splits into fetch (in the
worker) and loader (the rest of the wall time per patch and worker: pickling tensors to the main process,
collation, Python). Whole volumes: every volume read once in this process, after one untimed pass (warm cache).
Writes a JSON report and prints a Markdown table.
"""

import argparse
import importlib.util
import json
import os
import platform
import sys
import time

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Examples", "python"))
import hounsfield_shards as hs  # noqa: E402

PATCH = (96, 96, 96)
SHARD = "shard-00000.h5"


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def patch_list(entries, count, seed):
    """(key, start) pairs: a volume drawn uniformly, a start drawn uniformly inside it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        e = entries[int(rng.integers(0, len(entries)))]
        out.append((e.key, tuple(int(rng.integers(0, max(0, n - p) + 1)) for n, p in zip(e.shape, PATCH))))
    return out


class Timed(Dataset):
    """Wraps a fetch function; items carry the worker's fetch time."""

    def __init__(self, patches, fetch):
        self.patches, self.fetch = patches, fetch

    def __len__(self):
        return len(self.patches)

    def __getitem__(self, i):
        t = time.perf_counter()
        key, start = self.patches[i]
        image = self.fetch(key, start)
        return {"image": image, "fetch": time.perf_counter() - t}


class ShardFetch:
    """Patches through a Hounsfield reader module's ShardDataset internals (one open file per worker)."""

    def __init__(self, module, folder, reader="auto"):
        self.module, self.folder, self.reader = module, folder, reader
        self.dataset = None

    def __call__(self, key, start):
        hs_ = self.module
        if self.dataset is None:
            os.environ["HOUNSFIELD_PATCH_READER"] = self.reader  # read by each worker when it indexes a dataset
            self.dataset = hs_.ShardDataset(self.folder, mode="patch", patch_size=PATCH)
            self.by_key = {e.key: e for e in self.dataset.entries}
        entry = self.by_key[key]
        if hasattr(self.dataset._files, "shard"):
            volume = hs_._read(self.dataset._files.shard(entry.shard_path), entry, start, PATCH, label=False)
        else:  # the reader before the fast path: _read took an h5py File
            volume = hs_._read(self.dataset._files.get(entry.shard_path), entry, start, PATCH, label=False)
        # float32 as stored is used as it is, as ShardDataset does (the reader before this change had no copy=False)
        image = volume.array if volume.array.dtype == np.float32 else volume.scaled(np.float32)
        return torch.from_numpy(image[None])


class B2ndFetch:
    """nnU-Net v2's own reader. per_patch=True does what nnU-Net's data loader does for every patch
    (nnUNetDatasetBlosc2.load_case: open image and segmentation, read the properties pickle, then slice);
    per_patch=False keeps each image open in the worker and slices the image only."""

    def __init__(self, folder, per_patch):
        self.folder, self.per_patch, self.open = folder, per_patch, {}
        self.dataset = None

    def __call__(self, key, start):
        import blosc2
        sl = (slice(None),) + tuple(slice(s, s + p) for s, p in zip(start, PATCH))
        if self.per_patch:
            if self.dataset is None:
                from nnunetv2.training.dataloading.nnunet_dataset import nnUNetDatasetBlosc2
                self.dataset = nnUNetDatasetBlosc2(self.folder)
            data, seg, _, _ = self.dataset.load_case(key)
            image = np.asarray(data[sl])
            np.asarray(seg[sl])
        else:
            data = self.open.get(key)
            if data is None:
                blosc2.set_nthreads(1)
                data = self.open[key] = blosc2.open(os.path.join(self.folder, key + ".b2nd"), mode="r",
                                                    mmap_mode="r", dparams={"nthreads": 1})
            image = np.asarray(data[sl])
        return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))


class NpyFetch:
    def __init__(self, folder):
        self.folder, self.open = folder, {}

    def __call__(self, key, start):
        a = self.open.get(key)
        if a is None:
            a = self.open[key] = np.load(os.path.join(self.folder, key + ".npy"), mmap_mode="r")
        sl = tuple(slice(s, s + p) for s, p in zip(start, PATCH))
        return torch.from_numpy(np.array(a[sl], dtype=np.float32)[None])


class NoIO:
    def __call__(self, key, start):
        return torch.zeros((1,) + PATCH, dtype=torch.float32)


def run_loader(fetch, patches, warmup, limit_seconds):
    loader = DataLoader(Timed(patches, fetch), batch_size=2, num_workers=2, shuffle=False)
    fetch_times, count, t0 = [], 0, None
    for batch in loader:
        count += batch["image"].shape[0]
        if count == warmup:
            t0 = time.perf_counter()
        elif count > warmup:
            fetch_times += batch["fetch"].tolist()
            if time.perf_counter() - t0 > limit_seconds:
                break
    wall = time.perf_counter() - t0
    timed = count - warmup
    fetch_ms = 1e3 * float(np.mean(fetch_times))
    per_patch_worker_ms = 1e3 * wall * 2 / timed
    return {"patches": timed, "seconds": wall, "patches_per_s": timed / wall, "fetch_ms": fetch_ms,
            "loader_ms": max(0.0, per_patch_worker_ms - fetch_ms)}


def whole_volumes(read, keys):
    for key in keys[:2]:
        read(key)
    t = time.perf_counter()
    total = 0
    for key in keys:
        total += read(key).nbytes
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "ms_per_volume": 1e3 * seconds / len(keys), "mb_per_s": total / seconds / 1e6}


def folder_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True, help="the Hounsfield output folder (slabs, gzip 1)")
    p.add_argument("--data", required=True, help="where prepare.py wrote the other layouts")
    p.add_argument("--old-reader", help="hounsfield_shards.py before the fast path, for today's baseline")
    p.add_argument("--patches", type=int, default=400)
    p.add_argument("--warmup", type=int, default=40)
    p.add_argument("--limit-seconds", type=float, default=90.0, help="stop a layout's timed loop after this long")
    p.add_argument("--only", default="")
    p.add_argument("--rounds", type=int, default=1, help="measure every layout this many times, interleaved")
    p.add_argument("--report", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)

    folder = hs.open_folder(args.source)
    entries = sorted(folder.entries, key=lambda e: e.key)
    keys = [e.key for e in entries]
    patches = patch_list(entries, args.warmup + args.patches, seed=21)
    old = load_module(args.old_reader, "hounsfield_shards_old") if args.old_reader else None

    def hounsfield(name, path, reader="auto", module=hs):
        def volume(key):
            if module is hs and reader != "h5py":
                os.environ["HOUNSFIELD_PATCH_READER"] = reader
                return hs.read_volume(hs.open_folder(path).entry(key), label=False).array
            with h5py.File(os.path.join(path, SHARD), "r") as f:
                return f["/volumes/%s/image" % key][...]
        return ShardFetch(module, path, reader), volume, os.path.join(path, SHARD)

    layouts = {}
    if old is not None:
        layouts["slabs-gzip1 (reader before this change)"] = hounsfield("", args.source, module=old)
    layouts["slabs-gzip1"] = hounsfield("", args.source)
    for name in ("cubes64-zstd1", "cubes64-lz4", "cubes32-gzip1", "blosc32-zstd1", "blosc32-lz4hc5",
                 "blosc32-lz4hc9", "blosc32-lz4-9", "blosc32-lz4-9-blocks16"):
        layouts[name] = hounsfield(name, os.path.join(args.data, name))
    layouts["blosc32-lz4-9 (chunk loop in Python)"] = hounsfield("", os.path.join(args.data, "blosc32-lz4-9"),
                                                                  reader="python")
    layouts["blosc32-lz4-9 (h5py filter pipeline)"] = hounsfield("", os.path.join(args.data, "blosc32-lz4-9"),
                                                                  reader="h5py")
    b2nd = os.path.join(args.data, "b2nd")

    def b2nd_volume(key):
        import blosc2
        return blosc2.open(os.path.join(b2nd, key + ".b2nd"), mode="r", mmap_mode="r")[...]
    layouts["nnU-Net b2nd (load_case per patch, as its loader)"] = (B2ndFetch(b2nd, True), b2nd_volume, b2nd)
    layouts["nnU-Net b2nd (kept open, image only)"] = (B2ndFetch(b2nd, False), b2nd_volume, b2nd)
    npy = os.path.join(args.data, "npy")
    layouts["npy memory-mapped"] = (NpyFetch(npy), lambda key: np.load(os.path.join(npy, key + ".npy")), npy)
    layouts["DataLoader, no I/O"] = (NoIO(), None, None)

    only = [s for s in args.only.split(",") if s]
    baseline_bytes = folder_bytes(os.path.join(args.source, SHARD))
    report = {"date": time.strftime("%Y-%m-%d"), "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
              "torch": torch.__version__, "cpu": platform.processor() or platform.machine()},
              "volumes": len(entries), "shape_example": list(entries[0].shape), "patch": list(PATCH),
              "workers": 2, "batch": 2, "warmup": args.warmup, "patches": args.patches,
              "fast_path_library": hs.fast_path_available(), "blosc_read_path": hs.blosc_read_path(),
              "native_loop": hs._NativeLoop.where, "layouts": {}}
    if os.path.exists(os.path.join(args.data, "prepare.json")):
        report["prepare"] = json.load(open(os.path.join(args.data, "prepare.json")))
    selected = {name: layout for name, layout in layouts.items() if not only or any(o in name for o in only)}
    # Rounds interleave the layouts (A B C, A B C, ...): a busy spell of the machine then lands on every layout, and
    # each layout's ratio to .b2nd is taken within a round, then the median over rounds.
    for round_index in range(args.rounds):
        for name, (fetch, volume, path) in selected.items():
            row = report["layouts"].setdefault(name, {"rounds": []})
            if round_index == 0 and path is not None:
                size = folder_bytes(path)
                row["bytes"] = size
                row["bytes_vs_slabs_gzip1"] = size / baseline_bytes
            measured = run_loader(fetch, patches, args.warmup, args.limit_seconds)
            row["rounds"].append(measured)
            if round_index == 0 and volume is not None and "reader before" not in name:
                row["whole_volume"] = whole_volumes(volume, keys)
            print("round %d  %-52s %7.1f patches/s  fetch %6.2f ms  loader %6.2f ms" % (
                round_index + 1, name, measured["patches_per_s"], measured["fetch_ms"], measured["loader_ms"]),
                flush=True)
    b2nd_name = "nnU-Net b2nd (kept open, image only)"
    for name, row in report["layouts"].items():
        rates = [r["patches_per_s"] for r in row["rounds"]]
        middle = sorted(range(len(rates)), key=lambda i: rates[i])[len(rates) // 2]
        row.update({k: row["rounds"][middle][k] for k in ("patches_per_s", "fetch_ms", "loader_ms")})
        row["patches_per_s_range"] = [min(rates), max(rates)]
        if b2nd_name in report["layouts"]:
            reference = report["layouts"][b2nd_name]["rounds"]
            ratios = sorted(a["patches_per_s"] / b["patches_per_s"] for a, b in zip(row["rounds"], reference))
            row["patches_vs_b2nd"] = ratios[len(ratios) // 2]
            row["patches_vs_b2nd_range"] = [ratios[0], ratios[-1]]
    base = report["layouts"].get("slabs-gzip1", {}).get("whole_volume", {}).get("seconds")
    for row in report["layouts"].values():
        if base and "whole_volume" in row:
            row["whole_volume"]["vs_slabs_gzip1"] = row["whole_volume"]["seconds"] / base
    with open(args.report, "w") as handle:
        json.dump(report, handle, indent=2)
    print("\nMedians of %d round(s); × b2nd is the median of the ratios within a round (its range in brackets)."
          % args.rounds)
    print("\n| layout | patches/s | × b2nd | fetch ms | loader ms | MB on disk | × gzip | whole volume ms | × slabs |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in report["layouts"].items():
        wv = row.get("whole_volume", {})
        print("| %s | %.0f | %s | %.1f | %.1f | %s | %s | %s | %s |" % (
            name, row["patches_per_s"], "%.2f (%.2f–%.2f)" % (row["patches_vs_b2nd"], *row["patches_vs_b2nd_range"])
            if "patches_vs_b2nd" in row and args.rounds > 1 else "%.2f" % row["patches_vs_b2nd"]
            if "patches_vs_b2nd" in row else "",
            row["fetch_ms"], row["loader_ms"], "%.0f" % (row["bytes"] / 1e6) if "bytes" in row else "—",
            "%.3f" % row["bytes_vs_slabs_gzip1"] if "bytes" in row else "",
            "%.0f" % wv["ms_per_volume"] if wv else "—", "%.2f" % wv["vs_slabs_gzip1"] if "vs_slabs_gzip1" in wv else ""))


if __name__ == "__main__":
    main()
