"""Tests of the Python reader that need no Swift build: shards written here with h5py + hdf5plugin in the format
of docs/format.md. Run: ``python -m unittest Examples/python/test_hounsfield_shards.py`` (numpy, h5py, hdf5plugin;
torch for the DataLoader test, skipped without it).

The fast path (Blosc chunks read from the file, decoded by c-blosc) must give the voxels h5py gives through HDF5's
own filter pipeline, for patches at edges and inside, whole volumes, chunks stored unfiltered (filter mask set) and
chunks never written (fill value)."""

import json
import os
import sys
import tempfile
import unittest

import h5py
import hdf5plugin
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hounsfield_shards as hs  # noqa: E402

SHAPE = (37, 45, 29)


def _group_attrs(group, array, label=None):
    group.attrs["spacing"] = np.array([0.8, 0.8, 2.5])
    group.attrs["origin"] = np.array([-10.0, -20.0, 5.0])
    group.attrs["direction"] = np.eye(3).ravel()
    group.attrs["value_scale"] = 1.0
    group.attrs["checksum"] = hs.checksum(array)
    if label is not None:
        group.attrs["label_checksum"] = hs.checksum(label)


def write_folder(path, layout):
    """Two volumes (one labelled) in one shard of the given layout, with a manifest."""
    rng = np.random.default_rng(5)
    lines = []
    with h5py.File(os.path.join(path, "shard-00000.h5"), "w") as f:
        f.attrs["format"] = "hounsfield-shard"
        f.attrs["format_version"] = 1
        for n, key in enumerate(("a", "b")):
            z, y, x = np.meshgrid(*[np.arange(s) for s in SHAPE], indexing="ij")
            array = (np.sin(z / 3.0) + np.cos(y / 5.0) * x / 10.0 + rng.normal(0, 0.01, SHAPE)).astype(np.float32)
            label = ((z - 20) ** 2 + (y - 30) ** 2 + (x - 8) ** 2 < 25).astype(np.uint8) if key == "a" else None
            group = f.create_group("volumes/" + key)
            if layout == "blosc":
                filters = dict(chunks=(16, 16, 16), **hdf5plugin.Blosc(cname="lz4hc", clevel=9,
                                                                        shuffle=hdf5plugin.Blosc.SHUFFLE))
                image = group.create_dataset("image", shape=SHAPE, dtype="<f4", fillvalue=-1.5, **filters)
                # Every chunk through HDF5's pipeline but two: one stored unfiltered (filter mask 1), one never
                # written (reads as the fill value).
                image[:, :, :] = array
                raw = np.zeros((16, 16, 16), np.float32)
                raw[...] = array[16:32, 0:16, 0:16]
                image.id.write_direct_chunk((16, 0, 0), raw.tobytes(), 1)
                missing = group.create_dataset("hole", shape=SHAPE, dtype="<f4", fillvalue=-1.5, **filters)
                missing[:16, :, :] = array[:16]
                if label is not None:
                    group.create_dataset("label", data=label, **filters)
            else:  # today's default: slabs of whole slices, shuffle + gzip 1
                group.create_dataset("image", data=array, chunks=(8,) + SHAPE[1:], shuffle=True,
                                     compression="gzip", compression_opts=1)
                if label is not None:
                    group.create_dataset("label", data=label, chunks=(8,) + SHAPE[1:], compression="gzip")
            _group_attrs(group, array, label)
            lines.append({"key": key, "shard": "shard-00000.h5", "path": "/volumes/%s/image" % key,
                          "label_path": "/volumes/%s/label" % key if label is not None else None,
                          "shape": list(SHAPE), "dtype": "float32", "spacing": [0.8, 0.8, 2.5],
                          "origin": [-10.0, -20.0, 5.0], "direction": list(np.eye(3).ravel()),
                          "checksum": hs.checksum(array), "status": "ok"})
    with open(os.path.join(path, "manifest.jsonl"), "w") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    return hs.open_folder(path)


class reader_forced:
    """Sets $HOUNSFIELD_PATCH_READER for shards opened inside the block."""

    def __init__(self, reader):
        self.reader, self.saved = reader, None

    def __enter__(self):
        self.saved = os.environ.get("HOUNSFIELD_PATCH_READER")
        os.environ["HOUNSFIELD_PATCH_READER"] = self.reader

    def __exit__(self, *exc):
        if self.saved is None:
            os.environ.pop("HOUNSFIELD_PATCH_READER", None)
        else:
            os.environ["HOUNSFIELD_PATCH_READER"] = self.saved


class FastPathTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        os.makedirs(os.path.join(cls.tmp.name, "blosc"))
        os.makedirs(os.path.join(cls.tmp.name, "slabs"))
        cls.blosc = write_folder(os.path.join(cls.tmp.name, "blosc"), "blosc")
        cls.slabs = write_folder(os.path.join(cls.tmp.name, "slabs"), "slabs")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_library_found(self):
        self.assertIsNotNone(hs.fast_path_available(), "hdf5plugin bundles c-blosc: the fast path should be on")

    def test_fast_path_equals_h5py(self):
        for reader in ("native", "python", "h5py"):
            with self.subTest(reader=reader), reader_forced(reader):
                self.check_reader_equals_h5py(reader)

    def test_native_loop_is_the_default(self):
        self.assertEqual(hs.blosc_read_path(), "native", hs._NativeLoop.why)

    def test_corrupt_chunk_is_an_error_naming_it(self):
        """A chunk whose Blosc header does not describe a chunk of the dataset: a read that touches it fails with
        the chunk's position, in both loops, never a crash or wrong voxels; reads around it still work."""
        path = os.path.join(self.tmp.name, "corrupt")
        os.makedirs(path)
        folder = write_folder(path, "blosc")
        entry = folder.entry("b")
        with h5py.File(entry.shard_path, "r+") as f:
            image = f["/volumes/b/image"]
            image.id.write_direct_chunk((0, 16, 0), b"\x02\x01\x13\x04" + b"\0" * 28, 0)
        for reader in ("native", "python"):
            with self.subTest(reader=reader), reader_forced(reader):
                shard = hs._Shard(entry.shard_path)
                try:
                    with self.assertRaisesRegex(OSError, r"chunk \(0, 1, 0\)"):
                        shard.read("/volumes/b/image", (slice(0, 8), slice(10, 20), slice(0, 8)))
                    np.testing.assert_array_equal(  # the chunks around it still read
                        shard.read("/volumes/b/image", (slice(0, 8), slice(0, 16), slice(0, 8))).shape, (8, 16, 8))
                finally:
                    shard.close()

    def check_reader_equals_h5py(self, reader):
        entry = self.blosc.entry("a")
        shard = hs._Shard(entry.shard_path)
        try:
            self.assertEqual(shard.index(entry.path).reader, reader)
            self.assertEqual(shard.index(entry.path).fast, reader != "h5py")
            with h5py.File(entry.shard_path, "r") as f:
                expected = {name: f["/volumes/a/" + name][...] for name in ("image", "hole", "label")}
            rng = np.random.default_rng(0)
            regions = [((0, 0, 0), SHAPE), ((16, 0, 0), (16, 16, 16)), ((15, 3, 1), (3, 40, 28)), ((36, 44, 28), (1, 1, 1))]
            for _ in range(60):
                size = tuple(int(rng.integers(1, n + 1)) for n in SHAPE)
                regions.append((tuple(int(rng.integers(0, n - s + 1)) for n, s in zip(SHAPE, size)), size))
            for name, array in expected.items():
                for start, size in regions:
                    region = tuple(slice(s, s + n) for s, n in zip(start, size))
                    got = shard.read("/volumes/a/" + name, region)
                    self.assertEqual(got.dtype, array.dtype)
                    np.testing.assert_array_equal(got, array[region], err_msg="%s %s %s" % (name, start, size))
            self.assertTrue((expected["hole"][16:] == -1.5).all())  # the fill value came through
        finally:
            shard.close()

    def test_volume_and_patch_api(self):
        for folder in (self.blosc, self.slabs):
            volume = hs.read_volume(folder, "a")
            self.assertEqual(hs.checksum(volume.array), folder.entry("a").checksum)
            patch = hs.read_patch(folder.entry("a"), (3, 4, 5), (10, 11, 12))
            np.testing.assert_array_equal(patch.array, volume.array[3:13, 4:15, 5:17])
            np.testing.assert_array_equal(patch.label, volume.label[3:13, 4:15, 5:17])
            np.testing.assert_allclose(patch.origin, [-10.0 + 5 * 0.8, -20.0 + 4 * 0.8, 5.0 + 3 * 2.5])
            self.assertEqual(hs.verify(folder), [])

    def test_layouts_agree_in_dataset(self):
        a = hs.ShardDataset(self.blosc, mode="patch", patch_size=(16, 20, 24), patches_per_volume=5, seed=3,
                            as_tensors=False)
        b = hs.ShardDataset(self.slabs, mode="patch", patch_size=(16, 20, 24), patches_per_volume=5, seed=3,
                            as_tensors=False)
        for i in range(len(a)):
            x, y = a[i], b[i]
            np.testing.assert_array_equal(x["start"], y["start"])
            np.testing.assert_array_equal(x["image"], y["image"])
            self.assertEqual(x["key"], y["key"])
            self.assertEqual("label" in x, x["key"] == "a")

    def test_uniform_sampler_keeps_old_starts(self):
        dataset = hs.ShardDataset(self.blosc, mode="patch", patch_size=(8, 8, 8), patches_per_volume=4, seed=11)
        for i in range(len(dataset)):
            rng = np.random.default_rng([11, 0, i])
            old = tuple(int(rng.integers(0, n - 8 + 1)) for n in SHAPE)
            self.assertEqual(dataset.patch_start(i), old)

    def test_foreground_oversampling(self):
        sampler = hs.RandomPatchSampler(foreground_probability=1.0)
        dataset = hs.ShardDataset(self.blosc, keys=["a"], mode="patch", patch_size=(8, 8, 8), patches_per_volume=20,
                                  seed=1, as_tensors=False, sampler=sampler)
        for i in range(len(dataset)):
            self.assertGreater(int(dataset[i]["label"].sum()), 0, "patch %d misses the labelled sphere" % i)
        unlabelled = hs.ShardDataset(self.blosc, keys=["b"], mode="patch", patch_size=(8, 8, 8), seed=1,
                                     as_tensors=False, sampler=sampler)
        self.assertEqual(unlabelled[0]["image"].shape, (1, 8, 8, 8))  # no label: uniform

    def test_channel_labels(self):
        """Overlapping classes stored as (C, z, y, x): patches carry every channel, the sampler centres on any class,
        the manifest's summary comes through, and the checksum hashes the C·z planes as the writer does."""
        path = os.path.join(self.tmp.name, "channels")
        os.makedirs(path)
        z, y, x = np.meshgrid(*[np.arange(s) for s in SHAPE], indexing="ij")
        array = (z + y + x).astype(np.float32)
        body = ((z - 18) ** 2 + (y - 22) ** 2 + (x - 14) ** 2 < 100).astype(np.uint8)
        organ = ((z - 18) ** 2 + (y - 22) ** 2 + (x - 14) ** 2 < 9).astype(np.uint8)
        label = np.stack([body, organ])
        with h5py.File(os.path.join(path, "shard-00000.h5"), "w") as f:
            f.attrs["format"] = "hounsfield-shard"
            f.attrs["format_version"] = 1
            group = f.create_group("volumes/c")
            group.create_dataset("image", data=array, chunks=(8,) + SHAPE[1:], compression="gzip")
            group.create_dataset("label", data=label, chunks=(1, 8) + SHAPE[1:], compression="gzip")
            _group_attrs(group, array, label)
        summary = {"layout": "channels", "classes": {"1": "body", "2": "organ"},
                   "voxels": {"1": int(body.sum()), "2": int(organ.sum())}, "overlapping_voxels": int(organ.sum()),
                   "sources": [], "warnings": []}
        with open(os.path.join(path, "manifest.jsonl"), "w") as handle:
            handle.write(json.dumps({"key": "c", "shard": "shard-00000.h5", "path": "/volumes/c/image",
                                     "label_path": "/volumes/c/label", "shape": list(SHAPE), "dtype": "float32",
                                     "spacing": [0.8, 0.8, 2.5], "origin": [-10.0, -20.0, 5.0],
                                     "direction": list(np.eye(3).ravel()), "checksum": hs.checksum(array),
                                     "status": "ok", "labels": summary}) + "\n")
        folder = hs.open_folder(path)
        self.assertEqual(folder.entry("c").labels, summary)
        self.assertEqual(hs.verify(folder), [])
        patch = hs.read_patch(folder.entry("c"), (3, 4, 5), (10, 11, 12))
        np.testing.assert_array_equal(patch.label, label[:, 3:13, 4:15, 5:17])
        sampler = hs.RandomPatchSampler(foreground_probability=1.0)
        dataset = hs.ShardDataset(folder, mode="patch", patch_size=(8, 8, 8), patches_per_volume=10, seed=2,
                                  as_tensors=False, sampler=sampler)
        for i in range(len(dataset)):
            self.assertEqual(dataset[i]["label"].shape[-4:], (2, 8, 8, 8))
            self.assertGreater(int(dataset[i]["label"][..., 0, :, :, :].sum()), 0)

    def test_dataloader_persistent_workers(self):
        try:
            import torch
            from torch.utils.data import DataLoader
        except ImportError:
            self.skipTest("torch is not installed")
        dataset = hs.ShardDataset(self.blosc, mode="patch", patch_size=(16, 16, 16), patches_per_volume=6, seed=2)
        expected = {i: dataset[i]["image"] for i in range(len(dataset))}
        dataset.close()
        loader = DataLoader(dataset, batch_size=2, num_workers=2, persistent_workers=True, collate_fn=hs.collate)
        for _ in range(2):
            seen = 0
            for batch_index, batch in enumerate(loader):
                for j in range(batch["image"].shape[0]):
                    self.assertTrue(torch.equal(batch["image"][j], expected[batch_index * 2 + j]))
                    seen += 1
            self.assertEqual(seen, len(dataset))


if __name__ == "__main__":
    unittest.main()
