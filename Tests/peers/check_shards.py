"""Reads a Hounsfield output folder with the Python reader (Examples/python/hounsfield_shards.py) and prints one JSON
object that the Swift tests assert on: per-volume checksums, geometry and sums as Python sees them, the first
shard's file attributes, whether patches and the dataset class agree with whole-volume reads, a DataLoader run when
torch is importable, and verify()'s problems. Usage: check_shards.py OUT_DIR.

Exits 0 whatever the checks find (the JSON says it); exits 2 with a message on stderr only when the folder cannot
be read at all."""
import json
import math
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Examples", "python"))

import numpy as np  # noqa: E402

import hounsfield_shards as hs  # noqa: E402


def number(value):
    """A JSON-safe Python number: NaN and infinities (which JSON cannot carry) become null."""
    if value is None:
        return None
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def numbers(values):
    return [number(v) for v in np.ravel(values).tolist()]


def close(a, b):
    return np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=1e-12, atol=1e-9)


def describe_volume(folder, entry, failures):
    volume = hs.read_volume(entry)
    recomputed = hs.checksum(volume.array)
    checksum_ok = recomputed == entry.checksum and recomputed == volume.attrs.get("checksum")
    if not checksum_ok:
        failures.append("%s: checksum %s, manifest %s, attribute %s"
                        % (entry.key, recomputed, entry.checksum, volume.attrs.get("checksum")))
    array = volume.array
    result = {
        "key": entry.key,
        "shard": entry.shard,
        "shape": list(array.shape),
        "dtype": array.dtype.name,
        "checksum_ok": bool(checksum_ok),
        "checksum": recomputed,
        "spacing": numbers(volume.spacing),
        "origin": numbers(volume.origin),
        "direction": numbers(volume.direction),
        "affine_lps": numbers(volume.affine_lps),
        "sum": number(float(np.sum(array, dtype=np.float64))),
        "first": number(array.flat[0]) if array.size else None,
        "last": number(array.flat[-1]) if array.size else None,
        "has_label": volume.label is not None,
        "label_sum": None,
        "label_checksum_ok": None,
        "label_dtype": None,
    }
    if volume.label is not None:
        result["label_sum"] = number(float(np.sum(volume.label, dtype=np.float64)))
        result["label_checksum_ok"] = hs.checksum(volume.label) == volume.attrs.get("label_checksum")
        result["label_dtype"] = volume.label.dtype.name
    return volume, result


def check_patches(entry, volume, failures):
    """Two corner patches (at the origin and at the far corner) against slices of the whole array, with their
    origins against both the geometry formula and the stored affine applied to the start index."""
    shape = volume.array.shape
    if 0 in shape:
        return True
    size = tuple(max(1, n // 2) for n in shape)
    ok = True
    for start in ((0, 0, 0), tuple(n - s for n, s in zip(shape, size))):
        patch = hs.read_patch(entry, start, size)
        region = tuple(slice(s, s + n) for s, n in zip(start, size))
        expected_origin = volume.origin + volume.direction @ (volume.spacing * np.asarray(start[::-1], dtype=float))
        from_affine = (volume.affine_lps @ np.asarray(list(start[::-1]) + [1.0]))[:3]
        checks = {
            "voxels": patch.array.shape == size and np.array_equal(patch.array, volume.array[region]),
            "label": (patch.label is None) == (volume.label is None)
            and (patch.label is None or np.array_equal(patch.label, volume.label[region])),
            "origin": close(patch.origin, expected_origin) and close(patch.origin, from_affine),
            "affine": close(patch.affine_lps[:3, 3], expected_origin) and close(patch.affine_lps[:3, :3],
                                                                              volume.affine_lps[:3, :3]),
            "spacing": close(patch.spacing, volume.spacing) and close(patch.direction, volume.direction),
        }
        for name, good in checks.items():
            if not good:
                ok = False
                failures.append("%s: patch at %s size %s: %s differs" % (entry.key, start, size, name))
    return ok


def as_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def patch_size_for(entries):
    smallest = [min(e.shape[a] for e in entries) for a in range(3)]
    return tuple(max(1, min(16, n)) for n in smallest)


def check_dataset(folder, volumes, failures):
    ok = True
    scaled = {key: volume.scaled(np.float32) for key, volume in volumes.items()}
    dataset = hs.ShardDataset(folder, mode="volume")
    if len(dataset) != len(volumes):
        failures.append("dataset: %d items for %d volumes" % (len(dataset), len(volumes)))
        return False
    for index in range(len(dataset)):
        item = dataset[index]
        volume = volumes.get(item["key"])
        if volume is None:
            failures.append("dataset: item %d has unknown key %r" % (index, item["key"]))
            ok = False
            continue
        expected = scaled[item["key"]][None]
        checks = {
            "image": as_numpy(item["image"]).dtype == np.float32 and np.array_equal(as_numpy(item["image"]), expected),
            "spacing": close(as_numpy(item["spacing"]), volume.spacing),
            "affine_lps": close(as_numpy(item["affine_lps"]), volume.affine_lps),
            "label": ("label" in item) == (volume.label is not None)
            and ("label" not in item or np.array_equal(as_numpy(item["label"]), volume.label[None])),
        }
        for name, good in checks.items():
            if not good:
                ok = False
                failures.append("dataset (volume mode): %s: %s differs from read_volume" % (item["key"], name))
    dataset.close()

    if not volumes:
        return ok
    size = patch_size_for(folder.entries)
    patches = hs.ShardDataset(folder, mode="patch", patch_size=size, patches_per_volume=3, seed=7)
    again = hs.ShardDataset(folder, mode="patch", patch_size=size, patches_per_volume=3, seed=7)
    for index in range(len(patches)):
        item = patches[index]
        image = as_numpy(item["image"])
        start = tuple(int(v) for v in as_numpy(item["start"]))
        region = tuple(slice(s, s + n) for s, n in zip(start, size))
        checks = {
            "shape": image.shape == (1,) + size,
            "voxels": np.array_equal(image[0], scaled[item["key"]][region]),
            "label": "label" not in item or as_numpy(item["label"]).shape == (1,) + size,
            "reproducible": np.array_equal(as_numpy(again[index]["start"]), as_numpy(item["start"])),
        }
        for name, good in checks.items():
            if not good:
                ok = False
                failures.append("dataset (patch mode): item %d (%s at %s): %s" % (index, item["key"], start, name))
    patches.close()
    again.close()
    return ok


def check_torch(folder, failures):
    if hs.torch is None:
        return "absent"
    try:
        from torch.utils.data import DataLoader

        size = patch_size_for(folder.entries) if len(folder) else (1, 1, 1)
        dataset = hs.ShardDataset(folder, mode="patch", patch_size=size, patches_per_volume=2, seed=3)
        loader = DataLoader(dataset, batch_size=2, shuffle=True, num_workers=2, collate_fn=hs.collate)
        seen = 0
        for batch in loader:
            images = batch["image"]
            labels = batch.get("label")
            if labels is not None and not all(
                    v is None or tuple(v.shape) == (1,) + size for v in (labels if isinstance(labels, list) else labels)):
                return "failed: batch labels of the wrong shape"
            if images.dtype != hs.torch.float32 or tuple(images.shape[1:]) != (1,) + size:
                return "failed: batch image %s %s, expected (n, 1) + %s" % (images.dtype, tuple(images.shape), size)
            if tuple(batch["affine_lps"].shape[1:]) != (4, 4) or tuple(batch["spacing"].shape[1:]) != (3,):
                return "failed: batch geometry shapes %s %s" % (tuple(batch["affine_lps"].shape),
                                                                 tuple(batch["spacing"].shape))
            seen += images.shape[0]
        if seen != len(dataset):
            return "failed: %d items seen, %d expected" % (seen, len(dataset))
        return "ok"
    except Exception as error:  # the JSON carries the failure; the Swift test asserts on it
        failures.append("torch: " + traceback.format_exc(limit=3))
        message = str(error).strip().splitlines()
        return "failed: %s: %s" % (type(error).__name__, message[-1] if message else "")


def main(argv):
    if len(argv) != 1:
        print("usage: check_shards.py OUT_DIR", file=sys.stderr)
        return 2
    try:
        folder = hs.open_folder(argv[0])
    except Exception as error:
        print("check_shards.py: cannot read %s: %s" % (argv[0], error), file=sys.stderr)
        return 2

    failures = []
    volumes = {}
    described = []
    patch_ok = True
    for entry in folder.entries:
        try:
            volume, result = describe_volume(folder, entry, failures)
            volumes[entry.key] = volume
            described.append(result)
            patch_ok = check_patches(entry, volume, failures) and patch_ok
        except Exception as error:
            patch_ok = False
            failures.append("%s: %s: %s" % (entry.key, type(error).__name__, error))

    file_attrs = None
    if folder.shards:
        try:
            attrs = folder.file_attrs()
            file_attrs = {name: number(attrs.get(name)) for name in ("format", "format_version", "writer", "worker")}
        except Exception as error:
            failures.append("file attributes: %s" % error)

    try:
        dataset_ok = check_dataset(folder, volumes, failures) and len(volumes) == len(folder)
    except Exception as error:
        dataset_ok = False
        failures.append("dataset: %s: %s" % (type(error).__name__, error))

    report = {
        "volumes": described,
        "file_attrs": file_attrs,
        "patch_ok": bool(patch_ok and len(volumes) == len(folder)),
        "dataset_ok": bool(dataset_ok),
        "torch": check_torch(folder, failures),
        "problems": hs.verify(folder),
        "failures": failures,
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
