"""Read Hounsfield's HDF5 shard folders from Python (numpy + h5py; PyTorch optional).

The folder layout, attributes and checksum are specified in ``docs/format.md``; this module is one reader written
from that specification, so it relies on nothing but what the document promises:

- the manifests (``manifest.jsonl``, ``manifest-WORKER.jsonl``) are an *index*: listing a folder reads them and
  never opens a shard, which keeps listing cheap and keeps HDF5 handles out of the process that later forks
  ``DataLoader`` workers;
- the shards are the *truth*: geometry and metadata of a read volume come from the shard's attributes, not from
  the manifest line;
- ``*.partial`` files are shards still being written (or debris of a writer that died) and are never opened.

Only ``numpy`` and ``h5py`` are required. ``hdf5plugin`` is imported when installed, because shards written with
``zstd``/``lz4`` compression need its filters (gzip shards do not). ``torch`` is used only by :class:`ShardDataset`,
and only when importable.

Patches from Blosc shards (HDF5 filter 32001, the ``training`` layout, see ``docs/format.md``) take a fast path: the
chunk index and the attributes of a volume are read once per process, a chunk's stored bytes are read straight from
the file (memory-mapped), and c-blosc decodes only the chunks a patch touches, in a small C loop
(``hounsfield_patch.c``, built once with the machine's C compiler; see :func:`blosc_read_path` for the fallbacks).
c-blosc is found in ``hdf5plugin`` (which bundles it), Debian's ``libblosc1``, or the ``blosc`` package; without any
of them, and for every other layout, reads go through h5py.

Axis orders, as in the format: arrays are **(z, y, x)** (C order, as stored); ``spacing`` and ``origin`` are
**(x, y, z)** / LPS millimetres, in ITK/SimpleITK order; ``direction`` is a 3x3 matrix whose *columns* are the
LPS directions of the i (x), j (y) and k (z) index axes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import hashlib
import json
import mmap
import os
import platform
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import h5py
import numpy as np

try:  # registers the zstd (32015) and lz4 (32004) filters with HDF5; gzip shards read without it
    import hdf5plugin  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    hdf5plugin = None

try:  # optional: ShardDataset becomes a torch Dataset and returns tensors
    import torch
    from torch.utils.data import Dataset as _DatasetBase
except (ImportError, OSError):  # pragma: no cover - depends on the environment
    torch = None
    _DatasetBase = object

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FormatError",
    "Entry",
    "Volume",
    "ShardFolder",
    "ShardDataset",
    "collate",
    "open_folder",
    "read_volume",
    "read_patch",
    "RandomPatchSampler",
    "fast_path_available",
    "blosc_read_path",
    "checksum",
    "verify",
    "affines",
]

FORMAT_NAME = "hounsfield-shard"
#: The newest format version this reader understands; a shard with a larger one is refused, because the format
#: only grows its version when an older reader would *misread* the file (adding attributes does not count).
FORMAT_VERSION = 1

_MANIFEST_NAME = re.compile(r"^manifest(-[A-Za-z0-9_.]+)?\.jsonl$")
_CHECKSUM_PREFIX = "sha256-slices:"
_PLUGIN_FILTERS = {32015: "zstd", 32004: "lz4", 32001: "blosc"}
_BLOSC_FILTER = 32001

PathLike = Union[str, "os.PathLike[str]"]


class FormatError(ValueError):
    """A file is not a Hounsfield shard this reader may read (wrong ``format`` or a newer ``format_version``)."""


# --------------------------------------------------------------------------------------------------------------------
# Geometry


def affines(spacing: Sequence[float], origin: Sequence[float], direction: Any) -> Tuple[np.ndarray, np.ndarray]:
    """Return ``(affine_lps, affine_ras)`` for a grid: voxel index (i, j, k, 1) → LPS / RAS millimetres.

    ``affine_lps = [[direction · diag(spacing), origin], [0, 0, 0, 1]]``; RAS negates the first two rows, which is
    what nibabel expects of a NIfTI affine. ``direction`` is 3x3 (columns are the index axes) or 9 numbers
    row-major, as SimpleITK's ``GetDirection()``.
    """
    d = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    lps = np.eye(4)
    lps[:3, :3] = d * np.asarray(spacing, dtype=np.float64)[None, :]
    lps[:3, 3] = np.asarray(origin, dtype=np.float64)
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    return lps, ras


# --------------------------------------------------------------------------------------------------------------------
# Checksum


def _little_endian(a: np.ndarray) -> np.ndarray:
    order = a.dtype.byteorder
    if order == ">" or (order == "=" and sys.byteorder == "big"):
        return a.astype(a.dtype.newbyteorder("<"))
    return a


def _slice_digests(a: np.ndarray) -> bytes:
    a = _little_endian(np.asarray(a))
    if a.ndim == 4:  # a channel label (C, z, y, x): its C·z planes in order
        a = a.reshape((-1,) + a.shape[2:])
    return b"".join(hashlib.sha256(a[k].tobytes()).digest() for k in range(a.shape[0]))


def checksum(array: np.ndarray) -> str:
    """The format's checksum of a (z, y, x) array: ``"sha256-slices:"`` + SHA-256 of the per-slice SHA-256 digests.

    Hashing per z-slice is what lets the writer hash on all cores, and it makes the value independent of chunking
    and compression, so it can be recomputed from the decoded voxels alone. Slices are hashed in C order and
    little-endian whatever the array's memory layout or byte order.
    """
    return _CHECKSUM_PREFIX + hashlib.sha256(_slice_digests(array)).hexdigest()


def _dataset_checksum(dataset: h5py.Dataset, budget_bytes: int = 64 << 20) -> str:
    """The checksum of a stored dataset, read a slab at a time so verifying a large volume needs little memory.

    Slabs are whole chunks along z when possible, so each chunk is decompressed once.
    """
    shape = dataset.shape
    if len(shape) == 0 or shape[0] == 0:
        return _CHECKSUM_PREFIX + hashlib.sha256(b"").hexdigest()
    slice_bytes = max(1, int(np.prod(shape[1:], dtype=np.int64)) * dataset.dtype.itemsize)
    step = max(1, budget_bytes // slice_bytes)
    if dataset.chunks:
        step = max(dataset.chunks[0], step // dataset.chunks[0] * dataset.chunks[0])
    digests = b"".join(_slice_digests(_read_array(dataset, (slice(k, k + step),))) for k in range(0, shape[0], step))
    return _CHECKSUM_PREFIX + hashlib.sha256(digests).hexdigest()


# --------------------------------------------------------------------------------------------------------------------
# Entries (manifest lines)


@dataclass
class Entry:
    """One published volume: a manifest line (or the same fields rebuilt from a shard when no manifest exists).

    Entries are plain, picklable data with no open file, so they can be handed to ``DataLoader`` workers; every read
    opens the shard named here. ``shape`` is (z, y, x); ``spacing``/``origin`` are (x, y, z); ``direction`` is
    9 numbers row-major (use :attr:`direction_matrix` for the 3x3 form).
    """

    key: str
    shard: str
    folder: str
    path: str
    label_path: Optional[str] = None
    shape: Tuple[int, int, int] = (0, 0, 0)
    dtype: str = ""
    spacing: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: Tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    checksum: str = ""
    bytes: int = 0
    source_series: str = ""
    preview: Optional[str] = None
    warnings: List[str] = field(default_factory=list)
    status: str = "ok"
    #: The label's summary when the volume has one: ``layout`` (``class_index``, a (z, y, x) map of class values, or
    #: ``channels``, a (C, z, y, x) 0/1 mask per class when classes overlap), ``classes`` (value → name), ``voxels``
    #: (value → voxel count), ``overlapping_voxels``, ``sources``, ``warnings``.
    labels: Optional[Dict[str, Any]] = None
    #: Fields of the manifest line this reader does not know (newer writers may add some).
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def shard_path(self) -> str:
        """The shard's path on disk."""
        return os.path.join(self.folder, self.shard)

    @property
    def group(self) -> str:
        """The volume's group in the shard, ``/volumes/<key>``."""
        return posixpath.dirname(self.path)

    @property
    def has_label(self) -> bool:
        return bool(self.label_path)

    @property
    def direction_matrix(self) -> np.ndarray:
        return np.asarray(self.direction, dtype=np.float64).reshape(3, 3)

    @property
    def affine_lps(self) -> np.ndarray:
        return affines(self.spacing, self.origin, self.direction)[0]

    @property
    def affine_ras(self) -> np.ndarray:
        return affines(self.spacing, self.origin, self.direction)[1]

    @classmethod
    def from_manifest(cls, line: Dict[str, Any], folder: str) -> "Entry":
        known = {
            "key", "shard", "path", "label_path", "shape", "dtype", "spacing", "origin", "direction", "checksum",
            "bytes", "source_series", "preview", "warnings", "status", "labels",
        }
        return cls(
            key=str(line["key"]),
            shard=str(line["shard"]),
            folder=folder,
            path=str(line.get("path") or "/volumes/%s/image" % line["key"]),
            label_path=line.get("label_path") or None,
            shape=tuple(int(v) for v in line.get("shape", ())),
            dtype=str(line.get("dtype", "")),
            spacing=tuple(float(v) for v in line.get("spacing", (1.0, 1.0, 1.0))),
            origin=tuple(float(v) for v in line.get("origin", (0.0, 0.0, 0.0))),
            direction=tuple(float(v) for v in np.ravel(line.get("direction", np.eye(3)))),
            checksum=str(line.get("checksum", "")),
            bytes=int(line.get("bytes", 0) or 0),
            source_series=str(line.get("source_series", "")),
            preview=line.get("preview") or None,
            warnings=[str(w) for w in line.get("warnings") or []],
            status=str(line.get("status", "ok")),
            labels=line.get("labels") or None,
            extra={k: v for k, v in line.items() if k not in known},
        )


def _decode(value: Any) -> Any:
    """h5py attribute values as plain Python: str for strings (fixed-length ones arrive as bytes), lists of str for
    string arrays, Python numbers for scalars, numpy arrays for numeric arrays."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, h5py.Empty):
        return [] if value.dtype.kind in ("S", "U", "O") else None
    if isinstance(value, np.ndarray):
        if value.dtype.kind in ("S", "O", "U"):
            return [_decode(v) for v in value.ravel().tolist()]
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _attrs(obj: Any) -> Dict[str, Any]:
    out = {}
    for name in obj.attrs:
        try:
            out[name] = _decode(obj.attrs[name])
        except (OSError, TypeError, ValueError):  # an attribute type h5py cannot read: skip it, like unknown ones
            continue
    if "warnings" in out and isinstance(out["warnings"], str):
        out["warnings"] = [out["warnings"]] if out["warnings"] else []
    return out


def _scalar(value: Any) -> Any:
    """A one-element array or list as its element: a writer may store a scalar attribute with shape (1,)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(-1)[0].item()
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _check_format(f: h5py.File) -> None:
    attrs = _attrs(f)
    name = _scalar(attrs.get("format"))
    if name != FORMAT_NAME:
        raise FormatError("%s: not a Hounsfield shard (format attribute %r)" % (f.filename, name))
    version = _scalar(attrs.get("format_version"))
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise FormatError("%s: format_version %r is not an integer" % (f.filename, version)) from None
    if version > FORMAT_VERSION:
        raise FormatError(
            "%s: format_version %d is newer than this reader (%d); update hounsfield_shards.py"
            % (f.filename, version, FORMAT_VERSION)
        )


def _open_shard(path: str) -> h5py.File:
    """Open a published shard read-only and check its format attributes before anything reads it."""
    if path.endswith(".partial"):
        raise FormatError("%s: a shard still being written (or abandoned); never read *.partial files" % path)
    f = h5py.File(path, "r")
    try:
        _check_format(f)
    except BaseException:
        f.close()
        raise
    return f


def _entries_from_shard(f: h5py.File, folder: str, shard: str) -> List[Entry]:
    """Entries rebuilt from a shard's own attributes: what ``hounsfield manifest merge`` does for a lost line."""
    entries = []
    volumes = f.get("volumes")
    if volumes is None:
        return entries
    for key in volumes:
        group = volumes[key]
        if not isinstance(group, h5py.Group) or "image" not in group:
            continue
        image = group["image"]
        attrs = _attrs(group)
        label = group.get("label")
        stored = image.id.get_storage_size() + (label.id.get_storage_size() if label is not None else 0)
        preview = posixpath.join("previews", key + ".jpg")
        entries.append(Entry(
            key=key,
            shard=shard,
            folder=folder,
            path=image.name,
            label_path=label.name if label is not None else None,
            shape=tuple(int(v) for v in image.shape),
            dtype=image.dtype.name,
            spacing=tuple(float(v) for v in np.ravel(attrs.get("spacing", (1.0, 1.0, 1.0)))),
            origin=tuple(float(v) for v in np.ravel(attrs.get("origin", (0.0, 0.0, 0.0)))),
            direction=tuple(float(v) for v in np.ravel(attrs.get("direction", np.eye(3)))),
            checksum=str(attrs.get("checksum", "")),
            bytes=int(stored),
            source_series=str(attrs.get("source_series", "")),
            preview=preview if os.path.isfile(os.path.join(folder, preview)) else None,
            warnings=list(attrs.get("warnings") or []),
        ))
    return entries


# --------------------------------------------------------------------------------------------------------------------
# Volumes


@dataclass
class Volume:
    """Voxels and geometry of a volume or of a patch of one.

    ``array`` (and ``label``) are (z, y, x) as stored, in the stored dtype: integer volumes are *not* divided by
    ``value_scale`` here, so the array checksums to the stored value; use :meth:`scaled` for physical values.
    ``spacing``/``origin``/``direction``/affines describe *this* array: for a patch, ``origin`` is the LPS centre
    of the patch's first voxel. ``attrs`` are the volume group's attributes exactly as stored (for a patch they
    still describe the whole volume). ``start`` is the patch's (z, y, x) offset in the volume, zeros for a whole one.
    """

    key: str
    array: np.ndarray
    spacing: np.ndarray
    origin: np.ndarray
    direction: np.ndarray
    affine_lps: np.ndarray
    affine_ras: np.ndarray
    attrs: Dict[str, Any]
    label: Optional[np.ndarray] = None
    start: Tuple[int, int, int] = (0, 0, 0)

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def value_scale(self) -> float:
        return float(_scalar(self.attrs.get("value_scale", 1.0)) or 1.0)

    def scaled(self, dtype: Any = np.float32, copy: bool = True) -> np.ndarray:
        """The voxels as floats in the unit the pipeline produced (HU, or normalized values): integer dtypes store
        ``round(value * value_scale)``, so this divides by ``value_scale``. The format defines the scale for integer
        dtypes only, so float arrays are returned unchanged whatever the attribute says. ``copy=False`` returns
        :attr:`array` itself when it already has ``dtype`` (what :class:`ShardDataset` does: a 96³ float32 patch's
        copy costs about as much as decoding a quarter of it)."""
        out = self.array.astype(dtype, copy=copy)
        if self.array.dtype.kind in "iu" and self.value_scale != 1.0:
            out /= np.asarray(self.value_scale, dtype=out.dtype)
        return out

    def to_sitk(self, label: bool = False) -> Any:
        """A SimpleITK image with this volume's geometry (SimpleITK is imported here, so it stays optional).

        ``GetImageFromArray`` reads a (z, y, x) array as an (x, y, z) image, which is exactly the stored order.
        """
        import SimpleITK as sitk

        image = sitk.GetImageFromArray(self.label if label else self.array)
        image.SetSpacing([float(v) for v in self.spacing])
        image.SetOrigin([float(v) for v in self.origin])
        image.SetDirection([float(v) for v in self.direction.ravel()])
        return image

    def to_nifti(self, label: bool = False) -> Any:
        """A nibabel ``Nifti1Image`` (nibabel imported here). NIfTI indexes (i, j, k) = (x, y, z) and its affine is
        RAS, hence the transposed array and ``affine_ras``."""
        import nibabel as nib

        data = np.ascontiguousarray((self.label if label else self.array).transpose(2, 1, 0))
        image = nib.Nifti1Image(data, self.affine_ras)
        image.header.set_xyzt_units("mm")
        return image


def _region(shape: Sequence[int], start: Optional[Sequence[int]], size: Optional[Sequence[int]]):
    if start is None and size is None:
        return (0, 0, 0), tuple(slice(None) for _ in shape)
    start = tuple(int(v) for v in (start if start is not None else (0,) * len(shape)))
    size = tuple(int(v) for v in size) if size is not None else tuple(n - s for n, s in zip(shape, start))
    if len(start) != 3 or len(size) != 3:
        raise ValueError("start and size are (z, y, x): three numbers each")
    for s, n, total in zip(start, size, shape):
        if s < 0 or n < 0 or s + n > total:
            raise ValueError("patch start %s size %s exceeds the volume's shape %s" % (start, size, tuple(shape)))
    return start, tuple(slice(s, s + n) for s, n in zip(start, size))


def _missing_filter_hint(dataset: h5py.Dataset) -> str:
    try:
        plist = dataset.id.get_create_plist()
        codes = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    except Exception:  # pragma: no cover - only used to phrase an error
        return ""
    names = [_PLUGIN_FILTERS[c] for c in codes if c in _PLUGIN_FILTERS]
    if names and hdf5plugin is None:
        return " (the dataset is compressed with %s: `pip install hdf5plugin`, which this module imports)" % names[0]
    return ""


def _read_array(dataset: h5py.Dataset, region: Tuple[Any, ...]) -> np.ndarray:
    try:
        return dataset[region]
    except OSError as error:
        hint = _missing_filter_hint(dataset)
        if hint:
            raise OSError(str(error) + hint) from error
        raise


def _read(shard: "_Shard", entry: Entry, start=None, size=None, label: bool = True) -> Volume:
    """Read a volume or a hyperslab of one from an open shard. Only the chunks the region touches are decompressed;
    the shard caches the volume's attributes and chunk index, so repeated reads cost only the voxels."""
    f = shard.file
    if entry.path not in shard._indexes and entry.path not in f:
        raise KeyError("%s: no dataset %s in %s" % (entry.key, entry.path, entry.shard))
    index = shard.index(entry.path)
    attrs = shard.attrs(entry.group)
    offset, region = _region(index.shape, start, size)
    region = tuple(slice(0 if r.start is None else r.start, n if r.stop is None else r.stop)
                   for r, n in zip(region, index.shape))
    array = shard.read(entry.path, region)
    labels = None
    if label and entry.label_path:
        if entry.label_path not in shard._indexes and entry.label_path not in f:
            raise KeyError("%s: no dataset %s in %s" % (entry.key, entry.label_path, entry.shard))
        label_index = shard.index(entry.label_path)
        # A channel label (C, z, y, x) is read with every channel for the image's region.
        labels = shard.read(entry.label_path, region if len(label_index.shape) == 3
                            else (slice(0, label_index.shape[0]),) + region)

    spacing = np.asarray(attrs.get("spacing", entry.spacing), dtype=np.float64).reshape(3)
    origin = np.asarray(attrs.get("origin", entry.origin), dtype=np.float64).reshape(3)
    direction = np.asarray(attrs.get("direction", entry.direction), dtype=np.float64).reshape(3, 3)
    if any(offset):
        # A patch starting at index (i, j, k) = start_xyz has its first voxel's centre at origin + D · (s ⊙ start).
        origin = origin + direction @ (spacing * np.asarray(offset[::-1], dtype=np.float64))
        lps, ras = affines(spacing, origin, direction)
    elif "affine_lps" in attrs and "affine_ras" in attrs:
        lps = np.asarray(attrs["affine_lps"], dtype=np.float64).reshape(4, 4)
        ras = np.asarray(attrs["affine_ras"], dtype=np.float64).reshape(4, 4)
    else:
        lps, ras = affines(spacing, origin, direction)
    return Volume(
        key=entry.key, array=array, spacing=spacing, origin=origin, direction=direction, affine_lps=lps,
        affine_ras=ras, attrs=dict(attrs), label=labels, start=tuple(int(v) for v in offset),
    )


# --------------------------------------------------------------------------------------------------------------------
# Folders


class ShardFolder:
    """An output folder: its entries, read from every manifest, and ways to read their volumes.

    Manifests are read in the order Hounsfield's own tools use: ``manifest.jsonl`` first, then
    ``manifest-WORKER.jsonl`` by name. Lines whose ``status`` is not ``"ok"`` are skipped. A key listed more than
    once for the same dataset (a worker manifest left beside the merged one) counts once; a key listed for two
    *different* shards keeps the shard whose name sorts first, as ``hounsfield manifest merge`` does, and is
    reported in :attr:`problems`, as are lines that do not parse (the torn end of a manifest whose writer died).

    When the folder has no manifest at all, the entries are rebuilt from every published ``*.h5`` shard's
    ``/volumes`` group. With ``include_unlisted=True``, shards that no manifest line mentions are read too: they are
    shards whose writer crashed between publishing the shard and appending its lines.

    Entries keep manifest (file) order; ``folder["key"]`` and ``folder[i]`` both work.
    """

    def __init__(self, path: PathLike, include_unlisted: bool = False) -> None:
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            raise FileNotFoundError("%s: not a folder" % self.path)
        names = sorted(os.listdir(self.path))
        #: Published shards in the folder, by name (``*.partial`` excluded).
        self.shards: List[str] = [n for n in names if n.endswith(".h5") and os.path.isfile(os.path.join(self.path, n))]
        #: Manifest files read, in reading order.
        self.manifests: List[str] = [n for n in names if n == "manifest.jsonl"] + [
            n for n in names if n != "manifest.jsonl" and _MANIFEST_NAME.match(n)
        ]
        #: Anomalies found while listing (unreadable lines, conflicting keys, unreadable shards).
        self.problems: List[str] = []
        #: Where the entries came from: "manifest" or "shards".
        self.source = "manifest" if self.manifests else "shards"

        found: List[Entry] = []
        if self.manifests:
            found = self._read_manifests()
            if include_unlisted:
                listed = {e.shard for e in found}
                found += self._scan([s for s in self.shards if s not in listed])
        else:
            found = self._scan(self.shards)
        self.entries: List[Entry] = self._deduplicate(found)
        self._by_key = {e.key: e for e in self.entries}

    def _read_manifests(self) -> List[Entry]:
        found = []
        for name in self.manifests:
            with open(os.path.join(self.path, name), "rb") as handle:
                lines = handle.read().split(b"\n")
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw.decode("utf-8"))
                    if not isinstance(line, dict):
                        raise ValueError("not an object")
                    entry = Entry.from_manifest(line, self.path)
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    self.problems.append("%s:%d: unreadable manifest line" % (name, number))
                    continue
                if entry.status != "ok":
                    continue
                if entry.shard.endswith(".partial"):
                    self.problems.append("%s:%d: %s points at a .partial shard" % (name, number, entry.key))
                    continue
                found.append(entry)
        return found

    def _scan(self, shards: Sequence[str]) -> List[Entry]:
        found = []
        for shard in shards:
            try:
                with _open_shard(os.path.join(self.path, shard)) as f:
                    found += _entries_from_shard(f, self.path, shard)
            except (OSError, FormatError) as error:
                self.problems.append("%s: cannot list volumes: %s" % (shard, error))
        return found

    def _deduplicate(self, found: List[Entry]) -> List[Entry]:
        first: Dict[str, Entry] = {}
        order: List[str] = []
        for entry in found:
            kept = first.get(entry.key)
            if kept is None:
                first[entry.key] = entry
                order.append(entry.key)
            elif (kept.shard, kept.path) != (entry.shard, entry.path):
                winner, loser = sorted([kept, entry], key=lambda e: e.shard)
                first[entry.key] = winner
                self.problems.append(
                    "%s: key found in shards %s and %s; keeping %s" % (entry.key, winner.shard, loser.shard, winner.shard)
                )
        return [first[k] for k in order]

    # Access ------------------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: Union[str, int]) -> Entry:
        if isinstance(key, (int, np.integer)):
            return self.entries[int(key)]
        return self.entry(key)

    def __repr__(self) -> str:
        return "ShardFolder(%r, %d volumes in %d shards)" % (self.path, len(self.entries), len(self.shards))

    def keys(self) -> List[str]:
        return [e.key for e in self.entries]

    def entry(self, key: str) -> Entry:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError("%s: no volume %r" % (self.path, key)) from None

    def file_attrs(self, shard: Optional[str] = None) -> Dict[str, Any]:
        """The file attributes (``format``, ``format_version``, ``writer``, ``worker``) of a shard, the first by
        name by default."""
        name = shard or (self.shards[0] if self.shards else None)
        if name is None:
            return {}
        with h5py.File(os.path.join(self.path, name), "r") as f:
            return _attrs(f)

    def read_volume(self, key: str, label: bool = True) -> Volume:
        return read_volume(self.entry(key), label=label)

    def read_patch(self, key: str, start_zyx: Sequence[int], size_zyx: Sequence[int], label: bool = True) -> Volume:
        return read_patch(self.entry(key), start_zyx, size_zyx, label=label)

    def verify(self) -> List[str]:
        return verify(self)


def open_folder(path: PathLike, include_unlisted: bool = False) -> ShardFolder:
    """List an output folder's volumes from its manifests (see :class:`ShardFolder`); opens no shard unless the
    folder has no manifest."""
    return ShardFolder(path, include_unlisted=include_unlisted)


def _resolve(folder_or_entry: Any, key: Optional[str]) -> Entry:
    if isinstance(folder_or_entry, Entry):
        if key is not None and key != folder_or_entry.key:
            raise KeyError("entry is %r, not %r" % (folder_or_entry.key, key))
        return folder_or_entry
    if isinstance(folder_or_entry, ShardFolder):
        folder = folder_or_entry
    else:
        path = os.fspath(folder_or_entry)
        if os.path.isfile(path):  # a single shard file
            with _open_shard(path) as f:
                entries = _entries_from_shard(f, os.path.dirname(path), os.path.basename(path))
            match = [e for e in entries if key is None or e.key == key]
            if not match:
                raise KeyError("%s: no volume %r" % (path, key))
            if key is None and len(match) > 1:
                raise KeyError("%s holds %d volumes: pass a key" % (path, len(match)))
            return match[0]
        folder = ShardFolder(path)
    if key is None:
        if len(folder) != 1:
            raise KeyError("%s holds %d volumes: pass a key" % (folder.path, len(folder)))
        return folder.entries[0]
    return folder.entry(key)


def read_volume(folder_or_entry: Any, key: Optional[str] = None, label: bool = True) -> Volume:
    """Read a whole volume (and its label, if any and ``label``) with the geometry stored in its shard.

    ``folder_or_entry`` is an :class:`Entry`, a :class:`ShardFolder`, a folder path, or a shard file path. The file
    is opened and closed within the call; :class:`ShardDataset` keeps files open instead.
    """
    entry = _resolve(folder_or_entry, key)
    shard = _Shard(entry.shard_path)
    try:
        return _read(shard, entry, label=label)
    finally:
        shard.close()


def read_patch(entry: Any, start_zyx: Sequence[int], size_zyx: Sequence[int], key: Optional[str] = None,
               label: bool = True) -> Volume:
    """Read the hyperslab ``[start, start + size)`` (z, y, x) of a volume: only the chunks it touches are read and
    decompressed, which is the point of chunked storage for patch-based training.

    The result's geometry is the patch's: spacing and direction are the volume's, and ``origin`` moves to the
    centre of the patch's first voxel, ``origin + direction · (spacing ⊙ start_xyz)`` (start reversed to x, y, z).
    The region must lie inside the volume (``ValueError`` otherwise). ``entry`` may also be a folder or path with
    ``key``, as for :func:`read_volume`.
    """
    entry = _resolve(entry, key)
    shard = _Shard(entry.shard_path)
    try:
        return _read(shard, entry, start_zyx, size_zyx, label=label)
    finally:
        shard.close()


def verify(folder: Union[ShardFolder, PathLike]) -> List[str]:
    """Check every entry against the stored data; return a list of problems (empty when all is well).

    For each entry: the shard opens and is a shard this reader may read, the datasets exist, shape and dtype agree
    with the manifest, the manifest's geometry agrees with the shard's attributes, the stored affines agree with
    spacing, origin and direction, and the checksum of the stored
    voxels (recomputed slab by slab, so memory stays small) equals both the manifest's and the attribute's; the same
    for the label's ``label_checksum``. Problems found while listing the folder come first.
    """
    folder = folder if isinstance(folder, ShardFolder) else ShardFolder(folder)
    problems = list(folder.problems)
    for entry in folder.entries:
        where = "%s (%s)" % (entry.key, entry.shard)
        if not os.path.isfile(entry.shard_path):
            problems.append("%s: shard is missing" % where)
            continue
        try:
            with _open_shard(entry.shard_path) as f:
                problems += _verify_entry(f, entry, where)
        except (OSError, FormatError, KeyError, ValueError) as error:
            problems.append("%s: %s" % (where, error))
    return problems


def _verify_entry(f: h5py.File, entry: Entry, where: str) -> List[str]:
    problems = []
    if entry.path not in f:
        return ["%s: no dataset %s" % (where, entry.path)]
    dataset = f[entry.path]
    attrs = _attrs(f[entry.group])
    if tuple(dataset.shape) != tuple(entry.shape):
        problems.append("%s: shape %s, manifest says %s" % (where, tuple(dataset.shape), tuple(entry.shape)))
    if "shape" in attrs and tuple(np.ravel(attrs["shape"]).tolist()) != tuple(dataset.shape):
        problems.append("%s: shape attribute %s, dataset is %s" % (where, tuple(np.ravel(attrs["shape"])), dataset.shape))
    if dataset.dtype.name != entry.dtype:
        problems.append("%s: dtype %s, manifest says %s" % (where, dataset.dtype.name, entry.dtype))
    for name, expected in (("spacing", entry.spacing), ("origin", entry.origin), ("direction", entry.direction)):
        if name not in attrs:
            problems.append("%s: attribute %s is missing" % (where, name))
        elif not np.allclose(np.ravel(attrs[name]), np.ravel(expected), rtol=1e-9, atol=1e-9):
            problems.append("%s: %s attribute %s, manifest says %s" % (where, name, np.ravel(attrs[name]).tolist(),
                                                                       list(expected)))
    if all(name in attrs for name in ("spacing", "origin", "direction")):
        lps, ras = affines(attrs["spacing"], attrs["origin"], attrs["direction"])
        for name, expected in (("affine_lps", lps), ("affine_ras", ras)):
            if name in attrs and not np.allclose(np.ravel(attrs[name]), expected.ravel(), rtol=1e-9, atol=1e-9):
                problems.append("%s: %s attribute disagrees with spacing, origin and direction" % (where, name))
    stored = _dataset_checksum(dataset)
    if stored != entry.checksum:
        problems.append("%s: checksum of stored voxels %s, manifest says %s" % (where, stored, entry.checksum))
    if attrs.get("checksum") != stored:
        problems.append("%s: checksum attribute %s, stored voxels give %s" % (where, attrs.get("checksum"), stored))
    if entry.label_path:
        if entry.label_path not in f:
            problems.append("%s: no dataset %s" % (where, entry.label_path))
        else:
            label = f[entry.label_path]
            if label.shape[-3:] != dataset.shape or len(label.shape) not in (3, 4):
                problems.append("%s: label shape %s differs from image %s" % (where, label.shape, dataset.shape))
            label_sum = _dataset_checksum(label)
            if attrs.get("label_checksum") != label_sum:
                problems.append("%s: label_checksum attribute %s, stored labels give %s"
                                % (where, attrs.get("label_checksum"), label_sum))
    return problems


# --------------------------------------------------------------------------------------------------------------------
# Fast patch path (Blosc chunks read straight from the file)


class _Blosc:
    """c-blosc 1.x through ctypes, found once per process: hdf5plugin's Blosc filter library (which bundles c-blosc
    and exports its API), then the system's ``libblosc`` (Debian's ``libblosc1``), then the ``blosc`` package's
    extension. ``None`` when none has the three functions the fast path calls."""

    _lib: Any = None
    _where: Optional[str] = None
    _tried = False
    #: ``blosc_decompress_ctx`` and ``blosc_getitem`` as the C loop takes them (function pointers).
    decoders: Tuple[Any, Any] = (None, None)

    @classmethod
    def library(cls) -> Any:
        if cls._tried:
            return cls._lib
        cls._tried = True
        candidates: List[str] = []
        if hdf5plugin is not None:
            candidates += sorted(glob.glob(os.path.join(os.path.dirname(hdf5plugin.__file__), "plugins", "libh5blosc.*")))
        system = ctypes.util.find_library("blosc")
        if system:
            candidates.append(system)
        try:
            import blosc as _blosc_package  # noqa: F401
            from blosc import blosc_extension

            candidates.append(blosc_extension.__file__)
        except Exception:
            pass
        for path in candidates:
            try:
                lib = ctypes.CDLL(path)
                for name in ("blosc_decompress_ctx", "blosc_getitem", "blosc_cbuffer_sizes"):
                    getattr(lib, name)
            except (OSError, AttributeError):
                continue
            lib.blosc_decompress_ctx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            lib.blosc_decompress_ctx.restype = ctypes.c_int
            lib.blosc_getitem.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
            lib.blosc_getitem.restype = ctypes.c_int
            cls._lib, cls._where = lib, path
            cls.decoders = (ctypes.cast(lib.blosc_decompress_ctx, ctypes.c_void_p),
                            ctypes.cast(lib.blosc_getitem, ctypes.c_void_p))
            break
        return cls._lib


def fast_path_available() -> Optional[str]:
    """The c-blosc library the fast patch path uses, or ``None`` when reads of Blosc shards go through h5py."""
    return _Blosc._where if _Blosc.library() is not None else None


class _NativeLoop:
    """The fast path's chunk loop in C (``hounsfield_patch.c``, beside this file), one call per region instead of a
    Python iteration per chunk: found once per process.

    It is the library ``$HOUNSFIELD_PATCH_LIBRARY`` names, else one built from ``hounsfield_patch.c`` with ``$CC``
    (default ``cc``) into ``$XDG_CACHE_HOME/hounsfield`` (default ``~/.cache/hounsfield``), named by the source's
    digest so an edited source is built again; a build takes about a second, once per machine and cache. Built
    without ``-march=native``, so one cache shared by a cluster's nodes serves all of them. When there is no
    compiler, or the build fails, :attr:`why` says so and reads fall back (see :func:`blosc_read_path`)."""

    _function: Any = None
    where: Optional[str] = None
    why: Optional[str] = None
    warned = False
    _tried = False

    @classmethod
    def function(cls) -> Any:
        if cls._tried:
            return cls._function
        cls._tried = True
        path, cls.why = cls._library_path()
        if path is None:
            return None
        try:
            lib = ctypes.CDLL(path)
            if lib.hf_patch_interface_version() != 1:
                cls.why = "%s was built from another version of hounsfield_patch.c" % path
                return None
            function = lib.hf_read_region
        except (OSError, AttributeError) as error:
            cls.why = "cannot load %s: %s" % (path, error)
            return None
        pointer = ctypes.c_void_p
        function.argtypes = [pointer, ctypes.c_uint64, pointer, pointer, pointer, pointer, pointer, ctypes.c_int64,
                             pointer, pointer, pointer, pointer, pointer, pointer, pointer, pointer]
        function.restype = ctypes.c_int
        cls._function, cls.where = function, path
        return function

    @staticmethod
    def _library_path() -> Tuple[Optional[str], Optional[str]]:
        explicit = os.environ.get("HOUNSFIELD_PATCH_LIBRARY")
        if explicit:
            return explicit, None
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hounsfield_patch.c")
        try:
            with open(source, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()[:16]
        except OSError:
            return None, "hounsfield_patch.c is not beside %s: copy it there to read patches fast" % __file__
        cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                             "hounsfield")
        target = os.path.join(cache, "hounsfield_patch-%s-%s.so" % (digest, platform.machine() or "unknown"))
        if os.path.exists(target):
            return target, None
        compiler = shlex.split(os.environ.get("CC") or "cc")
        if not compiler or shutil.which(compiler[0]) is None:
            return None, "no C compiler (%s) to build hounsfield_patch.c: install one (e.g. apt install gcc) or " \
                         "set CC" % (os.environ.get("CC") or "cc")
        partial = "%s.%d.partial" % (target, os.getpid())
        try:
            os.makedirs(cache, exist_ok=True)
            done = subprocess.run(compiler + ["-O2", "-shared", "-fPIC", "-o", partial, source],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            if done.returncode != 0:
                return None, "building hounsfield_patch.c failed (%s): %s" % (
                    " ".join(compiler), done.stdout.decode(errors="replace").strip()[-400:])
            os.replace(partial, target)  # atomic: workers building at once each publish a whole library
        except (OSError, subprocess.SubprocessError) as error:
            return None, "cannot build hounsfield_patch.c into %s: %s" % (cache, error)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return target, None


def blosc_read_path() -> str:
    """How this process reads regions of Blosc datasets (the ``training`` layout), fastest first:

    - ``"native"``: chunks read straight from the file, decoded by c-blosc, in the C loop of
      ``hounsfield_patch.c`` (needs c-blosc and a C compiler once, see :class:`_NativeLoop`);
    - ``"h5py"``: HDF5's own filter pipeline (needs ``hdf5plugin``); about 20% slower on random 96³ patches;
    - ``"python"``: the same direct reads as ``native``, looping over chunks in Python; about 25% slower still.

    ``$HOUNSFIELD_PATCH_READER`` (``native``, ``h5py``, ``python``) picks one; by default the fastest available.
    All give the same voxels (tested)."""
    wanted = os.environ.get("HOUNSFIELD_PATCH_READER", "auto").strip().lower() or "auto"
    if wanted not in ("auto", "native", "h5py", "python"):
        raise ValueError("HOUNSFIELD_PATCH_READER is auto, native, h5py or python, not %r" % wanted)
    has_blosc = _Blosc.library() is not None
    if wanted == "native":
        if not has_blosc:
            raise RuntimeError("HOUNSFIELD_PATCH_READER=native needs c-blosc: pip install hdf5plugin")
        if _NativeLoop.function() is None:
            raise RuntimeError("HOUNSFIELD_PATCH_READER=native: %s" % _NativeLoop.why)
        return "native"
    if wanted in ("h5py", "python"):
        return wanted if wanted == "h5py" or has_blosc else "h5py"
    if has_blosc and _NativeLoop.function() is not None:
        return "native"
    fallback = "h5py" if h5py.h5z.filter_avail(_BLOSC_FILTER) or not has_blosc else "python"
    if has_blosc and not _NativeLoop.warned:  # once per process: say why patches are slower than they could be
        _NativeLoop.warned = True
        warnings.warn("hounsfield_shards: training-layout patches are read through %s, ~10%% slower than the C "
                      "loop: %s" % ("h5py's filter pipeline" if fallback == "h5py" else "a Python loop",
                                    _NativeLoop.why), RuntimeWarning, stacklevel=2)
    return fallback


class _DatasetIndex:
    """What a read of one dataset needs, gathered once per process: shape, dtype, chunk shape, fill value, and for
    Blosc datasets the file offset, size and filter mask of every stored chunk."""

    def __init__(self, dataset: h5py.Dataset, base: int) -> None:
        self.dataset = dataset
        self.shape = tuple(int(n) for n in dataset.shape)
        self.dtype = dataset.dtype
        self.chunks = tuple(int(n) for n in dataset.chunks) if dataset.chunks else None
        self.fill = dataset.fillvalue
        plist = dataset.id.get_create_plist()
        self.filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
        blosc = (self.chunks is not None and len(self.shape) == 3 and self.filters == [_BLOSC_FILTER]
                 and self.dtype.byteorder in ("<", "=", "|") and sys.byteorder == "little")
        #: "native", "python" (both read chunks straight from the file) or "h5py"; see blosc_read_path().
        self.reader = blosc_read_path() if blosc else "h5py"
        self.fast = self.reader != "h5py"
        self.base = base
        self._chunks: Optional[Dict[Tuple[int, int, int], Tuple[int, int, int]]] = None
        self._dense: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = None
        self.scratch = np.empty(self.chunks if self.chunks else (0,), dtype=self.dtype) if self.fast else None
        self.fill_bytes = np.array(self.fill, dtype=self.dtype) if self.fast else None

    def chunk_table(self) -> Dict[Tuple[int, int, int], Tuple[int, int, int]]:
        if self._chunks is None:
            table: Dict[Tuple[int, int, int], Tuple[int, int, int]] = {}
            c = self.chunks
            dsid = self.dataset.id

            def add(info: Any) -> None:
                table[tuple(o // n for o, n in zip(info.chunk_offset, c))] = (
                    int(info.byte_offset) + self.base, int(info.size), int(info.filter_mask))

            if hasattr(dsid, "chunk_iter"):
                try:
                    dsid.chunk_iter(add)
                except Exception:  # chunk_iter needs HDF5 1.12.3 or 1.14+: fall back to one call per chunk
                    table.clear()
                    for i in range(dsid.get_num_chunks()):
                        add(dsid.get_chunk_info(i))
            else:
                for i in range(dsid.get_num_chunks()):
                    add(dsid.get_chunk_info(i))
            self._chunks = table
        return self._chunks

    def dense_table(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The chunk table as arrays over the chunk grid, for the C loop: (grid shape, offsets (-1: never written),
        sizes, filter masks)."""
        if self._dense is None:
            grid = np.array([-(-n // c) for n, c in zip(self.shape, self.chunks)], dtype=np.int64)
            offsets = np.full(tuple(grid), -1, dtype=np.int64)
            sizes = np.zeros(tuple(grid), dtype=np.int64)
            masks = np.zeros(tuple(grid), dtype=np.uint32)
            for position, (offset, stored, mask) in self.chunk_table().items():
                offsets[position], sizes[position], masks[position] = offset, stored, mask
            self._dense = (grid, offsets, sizes, masks)
        return self._dense


class _Shard:
    """One open shard in one process: the h5py file, a read-only memory map of it (for the fast path), and per
    dataset and per group what reads need (:class:`_DatasetIndex`, attributes), so a patch costs no attribute or
    metadata reads after a volume's first one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = _open_shard(path)
        self._map: Optional[mmap.mmap] = None
        self._bytes: Optional[np.ndarray] = None
        self._indexes: Dict[str, _DatasetIndex] = {}
        self._attrs: Dict[str, Dict[str, Any]] = {}

    def index(self, path: str) -> _DatasetIndex:
        found = self._indexes.get(path)
        if found is None:
            found = self._indexes[path] = _DatasetIndex(self.file[path], int(self.file.userblock_size))
        return found

    def attrs(self, group: str) -> Dict[str, Any]:
        found = self._attrs.get(group)
        if found is None:
            found = self._attrs[group] = _attrs(self.file[group])
        return found

    def _address(self) -> int:
        if self._bytes is None:
            with open(self.path, "rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            self._bytes = np.frombuffer(self._map, dtype=np.uint8)
        return int(self._bytes.ctypes.data)

    def read(self, path: str, region: Tuple[slice, ...]) -> np.ndarray:
        """The voxels of ``region`` (slices with explicit starts and stops, as :func:`_region` makes)."""
        index = self.index(path)
        if not index.fast:
            return _read_array(index.dataset, region)
        return self._read_blosc(index, [s.start for s in region], [s.stop - s.start for s in region])

    def _read_blosc(self, index: _DatasetIndex, start: List[int], size: List[int]) -> np.ndarray:
        out = np.empty(size, dtype=index.dtype)
        if 0 in size:
            return out
        if index.reader == "native":
            self._read_native(index, start, size, out)
            return out
        lib = _Blosc.library()
        base = self._address()
        size_in_file = len(self._bytes)
        c = index.chunks
        table = index.chunk_table()
        scratch = index.scratch
        itemsize = index.dtype.itemsize
        chunk_bytes = scratch.nbytes
        plane = c[1] * c[2]
        first = [s // n for s, n in zip(start, c)]
        last = [(s + m - 1) // n for s, m, n in zip(start, size, c)]
        for cz in range(first[0], last[0] + 1):
            z0, z1 = max(start[0], cz * c[0]), min(start[0] + size[0], (cz + 1) * c[0])
            for cy in range(first[1], last[1] + 1):
                y0, y1 = max(start[1], cy * c[1]), min(start[1] + size[1], (cy + 1) * c[1])
                for cx in range(first[2], last[2] + 1):
                    x0, x1 = max(start[2], cx * c[2]), min(start[2] + size[2], (cx + 1) * c[2])
                    target = out[z0 - start[0]:z1 - start[0], y0 - start[1]:y1 - start[1], x0 - start[2]:x1 - start[2]]
                    record = table.get((cz, cy, cx))
                    if record is None:  # never written: HDF5 returns the fill value
                        target[...] = index.fill
                        continue
                    offset, stored, mask = record
                    if offset + stored > size_in_file:
                        raise OSError("%s: chunk %s lies past the end of the file" % (self.path, (cz, cy, cx)))
                    lz, hz = z0 - cz * c[0], z1 - cz * c[0]
                    ys, xs = slice(y0 - cy * c[1], y1 - cy * c[1]), slice(x0 - cx * c[2], x1 - cx * c[2])
                    if mask & 1:  # the filter was skipped: the chunk is stored as it is
                        if stored != chunk_bytes:
                            raise OSError("%s: raw chunk %s has %d bytes, not %d" % (self.path, (cz, cy, cx), stored,
                                                                                    chunk_bytes))
                        chunk = self._bytes[offset:offset + stored].view(index.dtype).reshape(c)
                        target[...] = chunk[lz:hz, ys, xs]
                        continue
                    header = self._bytes[offset:offset + 16]
                    if stored < 16 or int(header[4:8].view("<u4")[0]) != chunk_bytes \
                            or int(header[12:16].view("<u4")[0]) > stored:
                        raise OSError("%s: chunk %s is not a Blosc buffer of %d bytes" % (self.path, (cz, cy, cx),
                                                                                          chunk_bytes))
                    if hz - lz < c[0]:
                        # Only the slices the region needs: c-blosc decodes just the blocks that hold them.
                        got = lib.blosc_getitem(base + offset, lz * plane, (hz - lz) * plane, scratch.ctypes.data)
                        if got != (hz - lz) * plane * itemsize:
                            raise OSError("%s: chunk %s does not decode (%d)" % (self.path, (cz, cy, cx), got))
                        target[...] = scratch.reshape(-1)[:(hz - lz) * plane].reshape(hz - lz, c[1], c[2])[:, ys, xs]
                    else:
                        got = lib.blosc_decompress_ctx(base + offset, scratch.ctypes.data, chunk_bytes, 1)
                        if got != chunk_bytes:
                            raise OSError("%s: chunk %s does not decode (%d)" % (self.path, (cz, cy, cx), got))
                        target[...] = scratch[:, ys, xs]
        return out

    def _read_native(self, index: _DatasetIndex, start: List[int], size: List[int], out: np.ndarray) -> None:
        """The same loop as below, in C (hounsfield_patch.c): one call for the whole region."""
        grid, offsets, sizes, masks = index.dense_table()
        geometry = np.array([*index.chunks, *start, *size], dtype=np.int64)
        failed = ctypes.c_int64(-1)
        status = _NativeLoop.function()(
            self._address(), len(self._bytes), offsets.ctypes.data, sizes.ctypes.data, masks.ctypes.data,
            grid.ctypes.data, geometry.ctypes.data, index.dtype.itemsize, geometry[3:].ctypes.data,
            geometry[6:].ctypes.data, index.fill_bytes.ctypes.data, out.ctypes.data, index.scratch.ctypes.data,
            *_Blosc.decoders, ctypes.byref(failed))
        if status == 0:
            return
        chunk = tuple(int(n) for n in np.unravel_index(failed.value, tuple(grid))) if failed.value >= 0 else None
        reasons = {1: "lies past the end of the file", 2: "is stored unfiltered but is not one chunk's bytes",
                   3: "is not a Blosc buffer of %d bytes" % index.scratch.nbytes, 4: "does not decode"}
        if chunk is None or status not in reasons:
            raise OSError("%s: cannot read %s at %s size %s (status %d)" % (self.path, index.dataset.name, start,
                                                                          size, status))
        raise OSError("%s: chunk %s of %s %s" % (self.path, chunk, index.dataset.name, reasons[status]))

    def close(self) -> None:
        self._indexes.clear()
        self._attrs.clear()
        self._bytes = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # an array still views the map: the garbage collector closes it later
                pass
            self._map = None
        self.file.close()


class RandomPatchSampler:
    """Where a patch starts: uniformly inside the volume, or, with probability ``foreground_probability`` and when
    the volume has a label, centred on a random foreground voxel (what nnU-Net calls foreground oversampling; it
    uses 1/3).

    ``foreground`` turns a label array into the (z, y, x) voxel indices a patch may be centred on; by default every
    non-zero voxel, thinned to at most ``max_locations`` by a fixed draw. It is called once per volume and process
    (the label is read whole then), so make it a module-level function when workers are spawned. Sampling draws
    only from the ``rng`` it is given, so a start is a pure function of that generator's seed.
    """

    def __init__(self, foreground_probability: float = 0.0,
                 foreground: Optional[Callable[[np.ndarray], np.ndarray]] = None, max_locations: int = 10000) -> None:
        if not 0.0 <= float(foreground_probability) <= 1.0:
            raise ValueError("foreground_probability is between 0 and 1")
        self.foreground_probability = float(foreground_probability)
        self.foreground = foreground
        self.max_locations = int(max_locations)
        self._locations: Dict[str, np.ndarray] = {}

    def locations(self, key: str, label: Callable[[], Optional[np.ndarray]]) -> np.ndarray:
        found = self._locations.get(key)
        if found is None:
            array = label()
            if array is not None and array.ndim == 4:
                array = array.any(axis=0)  # channels: a voxel in any class is foreground
            if array is None:
                found = np.zeros((0, 3), dtype=np.int64)
            elif self.foreground is not None:
                found = np.asarray(self.foreground(array), dtype=np.int64).reshape(-1, 3)
            else:
                found = np.argwhere(array > 0).astype(np.int64)
            if len(found) > self.max_locations:
                pick = np.random.default_rng(0).choice(len(found), self.max_locations, replace=False)
                found = found[np.sort(pick)]
            self._locations[key] = found
        return found

    def __call__(self, key: str, shape: Sequence[int], patch_size: Sequence[int], rng: np.random.Generator,
                 label: Optional[Callable[[], Optional[np.ndarray]]] = None) -> Tuple[int, int, int]:
        if self.foreground_probability > 0 and label is not None and rng.random() < self.foreground_probability:
            locations = self.locations(key, label)
            if len(locations):
                centre = locations[int(rng.integers(0, len(locations)))]
                return tuple(int(min(max(0, c - p // 2), max(0, n - p)))
                             for c, n, p in zip(centre, shape, patch_size))
        return tuple(int(rng.integers(0, max(0, n - p) + 1)) for n, p in zip(shape, patch_size))

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_locations"] = {}
        return state


# --------------------------------------------------------------------------------------------------------------------
# Training


class _FileCache:
    """A few open shards per process (:class:`_Shard`: the h5py file, its memory map, the attributes and chunk
    indexes read so far), least recently used closed first.

    h5py handles must not cross a ``fork``: HDF5's state is per process, and a handle inherited by a ``DataLoader``
    worker shares its parent's library state and file descriptor. The cache remembers which process opened its
    files; in any other process (a forked worker, or after unpickling under ``spawn``) it starts empty, so every
    worker opens its own handles on first use. Not thread-safe: one cache per process is what ``DataLoader`` gives.
    """

    def __init__(self, max_open: int = 8) -> None:
        self.max_open = max(1, int(max_open))
        self._pid: Optional[int] = None
        self._files: "OrderedDict[str, _Shard]" = OrderedDict()

    def get(self, path: str) -> h5py.File:
        """The open h5py file of ``path`` in this process."""
        return self.shard(path).file

    def shard(self, path: str) -> "_Shard":
        """The open :class:`_Shard` of ``path`` in this process, opened on first use."""
        pid = os.getpid()
        if pid != self._pid:
            inherited, self._files, self._pid = self._files, OrderedDict(), pid
            for f in inherited.values():  # the child's copies of the parent's handles: close them, unused
                try:
                    f.close()
                except Exception:
                    pass
        f = self._files.get(path)
        if f is not None and f.file.id.valid:
            self._files.move_to_end(path)
            return f
        f = _Shard(path)
        self._files[path] = f
        while len(self._files) > self.max_open:
            _, oldest = self._files.popitem(last=False)
            oldest.close()
        return f

    def close(self) -> None:
        if self._pid == os.getpid():
            for f in self._files.values():
                f.close()
        self._files = OrderedDict()

    def __getstate__(self) -> Dict[str, Any]:
        return {"max_open": self.max_open}  # never pickle handles: the receiving process opens its own

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__init__(state["max_open"])


def collate(items: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Batch :class:`ShardDataset` items for ``DataLoader(collate_fn=collate)``.

    torch's ``default_collate`` needs every item to have the same keys and shapes. A folder where only some volumes
    have a ``label`` breaks the first, and whole volumes of different sizes break the second. Here a value is
    stacked (a tensor or numpy array with a leading batch axis) when every item has it with one shape; otherwise it
    stays a list, with ``None`` where an item lacks the key. Strings (``key``) are always lists.
    """
    names: List[str] = []
    for item in items:
        names += [name for name in item if name not in names]
    batch: Dict[str, Any] = {}
    for name in names:
        values = [item.get(name) for item in items]
        if torch is not None and all(isinstance(v, torch.Tensor) for v in values) \
                and len({tuple(v.shape) for v in values}) == 1:
            batch[name] = torch.stack(values)
        elif all(isinstance(v, np.ndarray) for v in values) and len({v.shape for v in values}) == 1:
            batch[name] = np.stack(values)
        else:
            batch[name] = values
    return batch


def _largest_label_value(entry: Entry) -> int:
    """The largest class value of an entry's label map (0 without one, or for the channel layout)."""
    summary = entry.labels or {}
    if summary.get("layout") != "class_index":
        return 0
    values = [int(v) for v in list(summary.get("classes") or {}) + list(summary.get("voxels") or {})]
    return max(values, default=0)


class ShardDataset(_DatasetBase):  # type: ignore[misc, valid-type]
    """A map-style dataset over a shard folder: whole volumes or random patches, ready for ``DataLoader``.

    - ``mode="volume"``: item ``i`` is volume ``i``. Volumes differ in shape, so batch them with ``batch_size=1``
      (or a collate function of your own).
    - ``mode="patch"``: ``len = volumes × patches_per_volume``; item ``i`` is a patch of ``patch_size`` (z, y, x)
      from volume ``i // patches_per_volume``, at a start drawn uniformly from a generator seeded by
      ``(seed, epoch, i)``. So an item is the same whichever worker loads it and however the sampler orders the
      indices: runs are reproducible, and :meth:`set_epoch` draws new patches per epoch (call it before iterating;
      with ``persistent_workers=True`` workers keep the epoch they started with). Along an axis where the volume is
      smaller than the patch, the patch starts at 0 and is padded at the end with ``pad_value`` (labels with 0).
      ``sampler`` decides the start from that generator: :class:`RandomPatchSampler` (uniform) by default; pass
      ``RandomPatchSampler(foreground_probability=0.33)`` to centre a third of the patches on labelled voxels of
      volumes that have a label (others stay uniform).

    Items are dicts: ``image`` (float32, 1 × z × y × x, divided by ``value_scale`` for scaled integer volumes),
    ``key``, ``spacing`` (x, y, z), ``affine_lps`` (4 × 4, of the item's own voxels: a patch's origin is moved),
    ``start`` (z, y, x offset in the volume), and ``label`` (1 × z × y × x) when the volume has one: a class map is
    uint8, or uint16 for every item when any volume of the dataset has a class value above 255; channels are uint8.
    Arrays are torch tensors when torch is importable (``as_tensors=None``), numpy arrays otherwise. Because
    ``label`` is absent for unlabelled volumes and whole volumes differ in shape, batch with
    ``collate_fn=collate`` (see :func:`collate`), or pass only labelled entries:
    ``ShardDataset([e for e in folder if e.has_label], ...)``.

    Entries are sorted by key, so index ``i`` names the same volume whatever order parallel writers finished in.
    No shard is opened until the first item is read, and each process opens its own (see :class:`_FileCache`) and
    keeps it open, with each volume's attributes and chunk index read once: safe with ``num_workers > 0`` and
    ``persistent_workers=True``. Patches of Blosc volumes (the ``training`` layout) take the fastest path available (see
    :func:`blosc_read_path`), other layouts h5py's; all give the same voxels.

    With MONAI, items are the dicts its dictionary transforms expect (``image``, ``label``), e.g.
    ``ShardDataset(folder, mode="patch", patch_size=(96, 96, 96), transform=monai.transforms.Compose([...]))``
    or wrapped in ``monai.data.Dataset(data=ShardDataset(...), transform=...)``.
    ``transform``, if given, is called on each item dict and returns the item.
    """

    def __init__(
        self,
        source: Union[ShardFolder, PathLike, Sequence[Entry]],
        mode: str = "volume",
        patch_size: Optional[Sequence[int]] = None,
        patches_per_volume: int = 1,
        seed: int = 0,
        keys: Optional[Sequence[str]] = None,
        label: bool = True,
        pad_value: float = 0.0,
        as_tensors: Optional[bool] = None,
        transform: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
        max_open_files: int = 8,
        sampler: Optional[Callable[..., Tuple[int, int, int]]] = None,
    ) -> None:
        if isinstance(source, ShardFolder):
            entries = list(source.entries)
        elif isinstance(source, (str, os.PathLike)):
            entries = list(ShardFolder(source).entries)
        else:
            entries = list(source)
        if keys is not None:
            wanted = set(keys)
            entries = [e for e in entries if e.key in wanted]
        self.entries: List[Entry] = sorted(entries, key=lambda e: e.key)
        if mode not in ("volume", "patch"):
            raise ValueError("mode is 'volume' or 'patch', not %r" % (mode,))
        if mode == "patch":
            if patch_size is None or len(patch_size) != 3 or any(int(v) < 1 for v in patch_size):
                raise ValueError("patch mode needs patch_size: three positive numbers (z, y, x)")
            if int(patches_per_volume) < 1:
                raise ValueError("patches_per_volume must be at least 1")
        if as_tensors and torch is None:
            raise ImportError("as_tensors=True needs torch")
        self.mode = mode
        self.patch_size = tuple(int(v) for v in patch_size) if patch_size is not None else None
        self.patches_per_volume = int(patches_per_volume) if mode == "patch" else 1
        self.seed = int(seed)
        self.epoch = 0
        self.label = label
        self.pad_value = float(pad_value)
        self.as_tensors = (torch is not None) if as_tensors is None else bool(as_tensors)
        self.transform = transform
        self.sampler = sampler if sampler is not None else RandomPatchSampler()
        # A class map is uint8, or uint16 when a class value is above 255. One dtype for the whole dataset, so that
        # the default collate can stack items of different volumes: uint16 as soon as one volume needs it.
        wide = any(_largest_label_value(e) > 255 for e in self.entries)
        self._label_dtype = np.uint16 if wide else None
        self._files = _FileCache(max_open_files)
        blosc_read_path()  # builds the C loop now, in this process, so forked DataLoader workers find it ready

    def __len__(self) -> int:
        return len(self.entries) * self.patches_per_volume

    def set_epoch(self, epoch: int) -> None:
        """Draw different (but still reproducible) patches in each epoch."""
        self.epoch = int(epoch)

    def patch_start(self, index: int) -> Tuple[int, int, int]:
        """The (z, y, x) start of item ``index``'s patch: a pure function of (seed, epoch, index) and the shape."""
        entry = self.entries[index // self.patches_per_volume]
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        shape = entry.shape if len(entry.shape) == 3 and all(entry.shape) else self._shape(entry)

        def label() -> Optional[np.ndarray]:
            if not (self.label and entry.label_path):
                return None
            shard = self._files.shard(entry.shard_path)
            return shard.read(entry.label_path, tuple(slice(0, n) for n in shape))

        return self.sampler(entry.key, shape, self.patch_size, rng, label if entry.label_path else None)

    def _shape(self, entry: Entry) -> Tuple[int, ...]:
        return self._files.shard(entry.shard_path).index(entry.path).shape

    def __getitem__(self, index: int) -> Dict[str, Any]:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        entry = self.entries[index // self.patches_per_volume]
        shard = self._files.shard(entry.shard_path)
        if self.mode == "volume":
            volume = _read(shard, entry, label=self.label)
        else:
            start = self.patch_start(index)
            shape = shard.index(entry.path).shape
            size = tuple(min(p, n - s) for p, n, s in zip(self.patch_size, shape, start))
            volume = _read(shard, entry, start, size, label=self.label)

        image = volume.scaled(np.float32, copy=False)  # the volume is this item's own: no need to copy
        labels = volume.label
        if labels is not None and self._label_dtype is not None and labels.ndim == 3:
            labels = labels.astype(self._label_dtype, copy=False)
        if self.mode == "patch" and image.shape != self.patch_size:
            pad = [(0, p - n) for p, n in zip(self.patch_size, image.shape)]
            image = np.pad(image, pad, constant_values=self.pad_value)
            if labels is not None:
                labels = np.pad(labels, pad, constant_values=0)

        item: Dict[str, Any] = {
            "image": np.ascontiguousarray(image[None]),
            "key": entry.key,
            "spacing": volume.spacing.copy(),
            "affine_lps": volume.affine_lps.copy(),
            "start": np.asarray(volume.start, dtype=np.int64),
        }
        if labels is not None:
            item["label"] = np.ascontiguousarray(labels[None])
        if self.as_tensors:
            for name in ("image", "label", "spacing", "affine_lps", "start"):
                if name in item:
                    item[name] = torch.from_numpy(item[name])
        if self.transform is not None:
            item = self.transform(item)
        return item

    def close(self) -> None:
        """Close this process's open shards (they are also closed when the dataset is garbage collected)."""
        self._files.close()

    def __del__(self) -> None:
        try:
            self._files.close()
        except Exception:
            pass
