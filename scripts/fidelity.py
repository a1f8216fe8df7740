"""Writes docs/fidelity.md: Hounsfield against SimpleITK and dcm2niix on every real case in ../shared/testdata and on
synthetic series in every transfer syntax, plus resampling against SimpleITK.

    scripts/test.sh                     # once: builds hounsfield and makes .venv-test (SimpleITK, h5py, numpy)
    .venv-test/bin/python scripts/fidelity.py [--output docs/fidelity.md]

dcm2niix (the PyPI wheel, pinned below) and nibabel are installed into the running venv when missing. The real
cases are compared with SimpleITK's values recorded in their reference.json; the synthetic ones with SimpleITK run
here. dcm2niix runs here on every case: its NIfTI is read with nibabel, its RAS voxel-to-world affine and i,j,k
array are turned into our LPS, [z][y][x] convention by matching axes (flips and permutations come from the affine,
not from assumptions), and the result is compared with Hounsfield's as-acquired volume: geometry in mm, HU by
SHA-256 and voxel by voxel. Every disagreement is explained below, in this script, so a rerun keeps the prose.
"""
import argparse
import hashlib
import importlib
import itertools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import h5py
    import numpy as np
    import SimpleITK as sitk
except ImportError as error:
    raise SystemExit(f"fidelity: {error.name} is missing: run scripts/test.sh once (it makes .venv-test), then "
                     ".venv-test/bin/python scripts/fidelity.py")

started = time.monotonic()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser()
parser.add_argument("--output", default=os.path.join(root, "docs", "fidelity.md"))
parser.add_argument("--testdata", default=os.path.join(os.path.dirname(root), "shared", "testdata"))
args = parser.parse_args()
binary = os.environ.get("HOUNSFIELD_BINARY") or next(
    (path for path in [os.path.join(root, ".build", "release", "hounsfield"), os.path.join(root, ".build", "debug", "hounsfield")]
     if os.path.exists(path)), None)
if binary is None:
    raise SystemExit("fidelity: build hounsfield first (scripts/test.sh or swift build --product hounsfield)")

# dcm2niix's behaviour changes between releases (tilt correction, decoders): pin the wheel the report was made with.
DCM2NIIX_REQUIREMENT = "dcm2niix==1.0.20260724"
NIBABEL_REQUIREMENT = "nibabel>=5"


def ensure_dcm2niix_and_nibabel():
    """Installs dcm2niix and nibabel from PyPI into the running venv when missing; returns (nibabel, binary, version)."""
    executable = os.environ.get("DCM2NIIX_BINARY") or os.path.join(sys.prefix, "bin", "dcm2niix")
    missing = []
    try:
        importlib.import_module("nibabel")
    except ImportError:
        missing.append(NIBABEL_REQUIREMENT)
    if not os.access(executable, os.X_OK):
        if os.environ.get("DCM2NIIX_BINARY"):
            raise SystemExit(f"fidelity: DCM2NIIX_BINARY={executable} is not an executable")
        missing.append(DCM2NIIX_REQUIREMENT)
    if missing:
        if sys.prefix == sys.base_prefix:
            raise SystemExit(f"fidelity: {', '.join(missing)} missing, and {sys.executable} is not a venv: run "
                             ".venv-test/bin/python scripts/fidelity.py (scripts/test.sh makes the venv)")
        print(f"fidelity: installing {' '.join(missing)} into {sys.prefix} (PyPI)", file=sys.stderr)
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], capture_output=True, text=True)
        importlib.invalidate_caches()
        if done.returncode != 0 or not os.access(executable, os.X_OK):
            raise SystemExit(f"fidelity: cannot install {' '.join(missing)} from PyPI into {sys.prefix} "
                             f"(pip exit {done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}\n"
                             f"Install them by hand ({shlex.join([sys.executable, '-m', 'pip', 'install', *missing])}) or point "
                             "DCM2NIIX_BINARY at a dcm2niix executable.")
    nibabel = importlib.import_module("nibabel")
    banner = subprocess.run([executable, "--version"], capture_output=True, text=True)
    version = next((token for token in (banner.stdout + banner.stderr).split() if re.fullmatch(r"v\d+\.\d+\.\d+\S*", token)), "?")
    return nibabel, executable, version


nib, dcm2niix, dcm2niix_version = ensure_dcm2niix_and_nibabel()
AIR = -1024.0  # LoadOptions.airValue: what `run` writes for padding
GEOMETRY_TOLERANCE_MM = 1e-3  # what "same geometry" means below
AXIS_TOLERANCE = math.cos(math.radians(0.5))  # a NIfTI axis matches one of ours within half a degree


def inspect(path):
    done = subprocess.run([binary, "inspect", path, "--json", "--stats"], capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"fidelity: inspect {path} failed: {done.stderr[-500:]}")
    return json.loads(done.stdout)["series"]


def geometry_difference(ours, theirs):
    origin = float(np.max(np.abs(np.subtract(ours["origin"], theirs["origin"]))))
    spacing = float(np.max(np.abs(np.subtract(ours["spacing"], theirs["spacing"]) / np.asarray(theirs["spacing"]))))
    direction = float(np.max(np.abs(np.subtract(ours["direction"], theirs["direction"]))))
    return origin, spacing, direction


def row(name, ours, theirs_geometry, theirs_hu, note=""):
    if ours is None:
        return f"| {name} | — | — | — | — | no volume | {note} |"
    origin, spacing, direction = geometry_difference(ours, theirs_geometry)
    same_size = list(ours["size"]) == list(theirs_geometry["size"])
    same_hash = ours["hu"]["sha256"] == theirs_hu["sha256"]
    hu = "**identical**" if same_hash else (
        f"differ: min {ours['hu']['min']:g} / {theirs_hu['min']:g}, max {ours['hu']['max']:g} / {theirs_hu['max']:g}, "
        f"mean {ours['hu']['mean']:.2f} / {theirs_hu['mean']:.2f}")
    size = "same" if same_size else f"{'×'.join(map(str, ours['size']))} vs {'×'.join(map(str, theirs_geometry['size']))}"
    return f"| {name} | {size} | {origin:.2g} | {spacing:.2g} | {direction:.2g} | {hu} | {note} |"


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array, dtype="<f4").tobytes()).hexdigest()


def fmt(value, digits=2):
    return "—" if value is None else ("0" if value == 0 else f"{value:.{digits}g}")


def size_text(size):
    return "×".join(map(str, size))


# ---------------------------------------------------------------------------------------------------------------------
# Hounsfield's voxels. `inspect --stats` hashes the as-acquired volume (padding kept); `run` with tilt and spacing kept
# and an empty transform chain writes the same stack as float32, except that padding becomes air (−1024 HU).

scratch = tempfile.mkdtemp(prefix="hounsfield-fidelity-")
run_configuration = os.path.join(scratch, "as-acquired.json")
with open(run_configuration, "w") as file:
    json.dump({"filters": {"modality": [], "minimum_slices": 1}, "loading": {"tilt": "keep", "spacing": "keep"},
               "transforms": [], "output": {"dtype": "float32", "compression": "none"},
               "privacy": {"salt": "fidelity"}}, file)


def run_volumes(path, configuration=run_configuration):
    """The volumes `hounsfield run` writes for `path`: [(manifest entry, float32 [z][y][x])]."""
    out = tempfile.mkdtemp(prefix="run-", dir=scratch)
    done = subprocess.run([binary, "run", path, "--config", configuration, "--output", out], capture_output=True,
                          text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"fidelity: hounsfield run {path} failed ({done.returncode}): {done.stderr[-500:]}")
    volumes = []
    manifest = os.path.join(out, "manifest.jsonl")
    if os.path.exists(manifest):
        for line in open(manifest):
            entry = json.loads(line)
            with h5py.File(os.path.join(out, entry["shard"]), "r") as f:
                volumes.append((entry, np.asarray(f[entry["path"]][...], dtype=np.float32)))
    shutil.rmtree(out, ignore_errors=True)
    return volumes


def padding_range(series):
    """Stored PixelPaddingValue (… RangeLimit) from inspect's warning, or None."""
    for warning in series.get("warnings", []):
        if warning["kind"] == "pixel_padding":
            match = re.search(r"PixelPaddingValue (-?\d+)(?:…(-?\d+))?", warning["message"])
            if match:
                low = int(match.group(1))
                high = int(match.group(2)) if match.group(2) else low
                return min(low, high), max(low, high)
    return None


# ---------------------------------------------------------------------------------------------------------------------
# dcm2niix.

DCM2NIIX_NOISE = ("Chris Rorden", "Conversion required", "Defaults ignored", "Found ", "Convert ")


def run_dcm2niix(path):
    """Converts one file (single-file mode) or one folder; returns (NIfTI paths, dcm2niix's messages)."""
    out = tempfile.mkdtemp(prefix="dcm2niix-", dir=scratch)
    command = [dcm2niix, "-z", "n", "-b", "n", "-g", "i", "-l", "o", "-f", "series%s", "-o", out]
    command += (["-s", "y"] if os.path.isfile(path) else []) + [path]
    done = subprocess.run(command, capture_output=True, text=True)
    messages = []
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        line = line.strip()
        if line and not line.startswith(DCM2NIIX_NOISE) and line not in messages:
            messages.append(line.replace(out + "/", "").replace(path, os.path.basename(path)))
    return sorted(os.path.join(out, name) for name in os.listdir(out) if name.endswith(".nii")), messages


def read_nifti(path):
    image = nib.load(path)
    header = image.header
    raw = np.asanyarray(image.dataobj.get_unscaled())
    while raw.ndim > 3 and raw.shape[-1] == 1:
        raw = raw[..., 0]
    # nibabel moves scl_slope/scl_inter from the header onto the data proxy (and reports nan in the header).
    slope, inter = float(image.dataobj.slope), float(image.dataobj.inter)
    sform_code, qform_code = int(header["sform_code"]), int(header["qform_code"])
    affine, source = (header.get_sform(), "sform") if sform_code > 0 else \
        (header.get_qform(), "qform") if qform_code > 0 else (None, None)
    qform_differs = sform_code > 0 and qform_code > 0 and not np.allclose(header.get_sform(), header.get_qform(),
                                                                          atol=1e-4)
    return {"name": os.path.basename(path), "raw": raw, "slope": slope, "inter": inter, "source": source,
            "affine": None if affine is None else np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine,  # RAS → LPS
            "qform_differs": qform_differs, "shape": list(raw.shape)}


def align(nifti, ours, layout=None):
    """dcm2niix's array in our [z][y][x] order, and its geometry in our terms, by matching its axes to ours.

    Returns (array of stored values, geometry or None, mapping, angles): geometry has size/spacing/origin/direction
    (row-major, like ours) and `columns` (spacing × direction, our x, y, z); mapping[b] = (NIfTI axis, ±1) put in
    the place of our axis b; angles[b] is the angle in degrees between them. Without an affine (sform and qform codes
    0) there is no geometry to go by: `layout` (a mapping) must say how to read the array.
    """
    ours_direction = np.asarray(ours["direction"], dtype=float).reshape(3, 3)  # columns are our x, y, z axes
    if nifti["affine"] is None:
        mapping, angles, matrix, origin = layout, [None] * 3, None, None
    else:
        matrix = nifti["affine"][:3, :3]
        units = matrix / np.linalg.norm(matrix, axis=0)
        cosines = ours_direction.T @ units  # [our axis, NIfTI axis]
        best = max(itertools.permutations(range(3)), key=lambda p: sum(abs(cosines[b, p[b]]) for b in range(3)))
        mapping = [(best[b], 1 if cosines[b, best[b]] >= 0 else -1) for b in range(3)]
        angles = [math.degrees(math.acos(min(1.0, abs(float(cosines[b, best[b]]))))) for b in range(3)]
        origin = nifti["affine"][:3, 3].copy()
    array, columns = nifti["raw"], None if matrix is None else matrix.copy()
    for axis, sign in mapping:
        if sign < 0:
            array = np.flip(array, axis=axis)
            if matrix is not None:
                origin = origin + matrix[:, axis] * (nifti["shape"][axis] - 1)
                columns[:, axis] = -matrix[:, axis]
    array = np.ascontiguousarray(np.transpose(array, (mapping[2][0], mapping[1][0], mapping[0][0])))
    if matrix is None:
        return array, None, mapping, angles
    ordered = np.stack([columns[:, mapping[b][0]] for b in range(3)], axis=1)  # our x, y, z
    spacing = np.linalg.norm(ordered, axis=0)
    return array, {"size": [nifti["shape"][mapping[b][0]] for b in range(3)], "spacing": spacing.tolist(),
                   "origin": origin.tolist(), "direction": (ordered / spacing).reshape(-1).tolist(),
                   "columns": ordered}, mapping, angles


def compare_geometry(ours, theirs):
    """Differences in mm: origin (distance), spacing (largest), direction (largest cosine), and the largest distance
    between the two tools' positions of the same corner voxel (None when the sizes differ)."""
    origin = np.asarray(ours["origin"], dtype=float)
    ours_columns = np.asarray(ours["direction"], dtype=float).reshape(3, 3) * np.asarray(ours["spacing"], dtype=float)
    result = {"origin": float(np.linalg.norm(origin - theirs["origin"])),
              "spacing": float(np.max(np.abs(np.subtract(ours["spacing"], theirs["spacing"])))),
              "direction": float(np.max(np.abs(np.subtract(ours["direction"], theirs["direction"])))),
              "corners": None}
    if list(ours["size"]) == list(theirs["size"]):
        corners = np.array(list(itertools.product(*[(0, n - 1) for n in ours["size"]])), dtype=float).T
        ours_world = origin[:, None] + ours_columns @ corners
        theirs_world = np.asarray(theirs["origin"])[:, None] + theirs["columns"] @ corners
        result["corners"] = float(np.max(np.linalg.norm(ours_world - theirs_world, axis=0)))
    return result


def compare_hu(stored, nifti, ours_series, ours_run):
    """dcm2niix's HU (stored × scl_slope + scl_inter, float32) against ours: SHA-256 against the as-acquired volume,
    and voxel by voxel against `run`'s, after giving dcm2niix's padding voxels the same air."""
    theirs = (stored.astype(np.float64) * nifti["slope"] + nifti["inter"]).astype(np.float32)
    result = {"identical": sha256(theirs) == ours_series["hu"]["sha256"], "voxels": int(theirs.size), "padding": 0,
              "theirs_min": float(theirs.min()), "theirs_max": float(theirs.max())}
    if ours_run is None or ours_run.shape != theirs.shape:
        return result
    padding = padding_range(ours_series)
    if padding:
        mask = (stored >= padding[0]) & (stored <= padding[1])
        theirs = np.where(mask, np.float32(AIR), theirs)
        result["padding"] = int(mask.sum())
    difference = ours_run.astype(np.float64) - theirs.astype(np.float64)
    result.update(max=float(np.max(np.abs(difference))), mean=float(np.mean(np.abs(difference))),
                  count=int(np.count_nonzero(difference)))
    offsets = np.unique(difference)
    result["offset"] = float(offsets[0]) if len(offsets) == 1 and offsets[0] != 0 else None
    return result


def true_slices(folder, normal):
    """ImagePositionPatient and InstanceNumber of every slice in `folder`, sorted along `normal` (as we sort)."""
    slices = []
    for name in sorted(os.listdir(folder)):
        reader = sitk.ImageFileReader()
        reader.SetFileName(os.path.join(folder, name))
        try:
            reader.ReadImageInformation()
        except RuntimeError:
            continue
        if not reader.HasMetaDataKey("0020|0032"):
            continue
        position = np.array([float(v) for v in reader.GetMetaData("0020|0032").split("\\")])
        number = int(reader.GetMetaData("0020|0013")) if reader.HasMetaDataKey("0020|0013") else None
        slices.append((float(position @ normal), position, number))
    slices.sort(key=lambda item: item[0])
    return np.array([item[1] for item in slices]), [item[2] for item in slices]


def compare_with_dcm2niix(name, path, ours_series):
    """Every NIfTI dcm2niix makes of `path`, aligned and compared with our series. One result per output."""
    ours_run = None
    volumes = run_volumes(path)
    if len(volumes) == 1 and list(volumes[0][1].shape) == list(ours_series["size"][::-1]):
        ours_run = volumes[0][1]
    files, messages = run_dcm2niix(path)
    results = []
    for file in files:
        nifti = read_nifti(file)
        result = {"case": name, "output": nifti["name"], "nifti": nifti, "messages": messages, "ours": ours_series}
        results.append(result)
        if len(nifti["shape"]) > 3:
            result["status"] = "4d"
            continue
        if nifti["affine"] is None:
            # No world coordinates in the NIfTI: dcm2niix's layout then depends on its code path (single images: rows
            # flipped; 3D acquisitions: reoriented from an assumed orientation). Find it by content, and say so.
            layouts = [[(0, sx), (1, sy), (2, sz)] for sz, sy, sx in itertools.product((1, -1), repeat=3)]
            scored = []
            for layout in layouts:
                stored = align(nifti, ours_series, layout)[0]
                if ours_run is not None and stored.shape == ours_run.shape:
                    scored.append((compare_hu(stored, nifti, ours_series, ours_run)["count"], layouts.index(layout)))
            layout = layouts[min(scored)[1]] if scored else [(0, 1), (1, -1), (2, 1)]
            words = [word for (axis, sign), word in zip(layout, ["columns right to left", "rows bottom-up",
                                                                 "slices reversed"]) if sign < 0]
            result["layout"] = ("found by content: " if scored else "assumed: ") + (", ".join(words) or "as stored")
            stored, theirs, mapping, angles = align(nifti, ours_series, layout)
        else:
            stored, theirs, mapping, angles = align(nifti, ours_series)
        result.update(theirs=theirs, mapping=mapping, angles=angles, size=list(stored.shape[::-1]))
        result["geometry"] = None if theirs is None else compare_geometry(ours_series, theirs)
        same_size = list(stored.shape[::-1]) == list(ours_series["size"])
        half_voxel = 0.5 * min([s for s, n in zip(ours_series["spacing"], ours_series["size"]) if n > 1]
                               or ours_series["spacing"])
        if same_size and (theirs is None or result["geometry"]["corners"] <= half_voxel):
            result["status"] = "same grid"
            result["hu"] = compare_hu(stored, nifti, ours_series, ours_run)
            continue
        result["status"] = "grid differs"
        # Same stored slices, placed differently? Only meaningful when the in-plane axes match and the count agrees.
        if same_size and theirs is not None and max(angles[:2]) < 0.5:
            result["slices"] = compare_hu(stored, nifti, ours_series, ours_run)
            if os.path.isdir(path):
                direction = np.asarray(ours_series["direction"]).reshape(3, 3)
                positions, numbers = true_slices(path, direction[:, 2])
                if len(positions) == ours_series["size"][2]:
                    k = np.arange(len(positions))
                    ours_positions = np.asarray(ours_series["origin"]) + np.outer(k, direction[:, 2] * ours_series["spacing"][2])
                    theirs_positions = np.asarray(theirs["origin"]) + np.outer(k, theirs["columns"][:, 2])
                    result["placement"] = {
                        "ours": float(np.max(np.linalg.norm(ours_positions - positions, axis=1))),
                        "theirs": float(np.max(np.linalg.norm(theirs_positions - positions, axis=1))),
                        "gaps": np.linalg.norm(np.diff(positions, axis=0), axis=1),
                        "numbers": numbers}
    if not files:
        results.append({"case": name, "output": None, "status": "not converted", "messages": messages,
                        "ours": ours_series})
    return results


# ---------------------------------------------------------------------------------------------------------------------
# What every dcm2niix disagreement means. Keyed by case (and output suffix after `seriesN`); the script checks that
# each disagreement it finds has an explanation here, and flags the ones that do not (and explanations no longer used).

TWELVE_BIT_JPEG = ("12-bit lossy JPEG (1.2.840.10008.1.2.4.51): this dcm2niix build cannot decode it (\"Unable to decode "
                   "16-bit images with Transfer Syntax 1.2.840.10008.1.2.4.51\") and writes nothing")
NO_GEOMETRY = ("no position or orientation in the file: dcm2niix writes no NIfTI orientation (sform and qform codes 0), "
               "we assume identity at origin 0: no geometry to compare or to align by")
EXPLANATIONS = {
    ("JPEG-lossy.dcm", ""): TWELVE_BIT_JPEG,
    ("JPGExtended.dcm", ""): TWELVE_BIT_JPEG,
    ("image_dfl.dcm", ""): "Deflated Explicit VR Little Endian: dcm2niix does not inflate it (\"Unsupported transfer "
                           "syntax\") and writes a meaningless 1×1×1 volume",
    ("deflated", ""): "Deflated Explicit VR Little Endian: dcm2niix does not inflate it (\"Unsupported transfer syntax\") "
                      "and writes nothing (\"No valid DICOM images were found\")",
    ("no_meta.dcm", ""): "both refuse it: dcm2niix says \"Not a DICOM image\"; we exclude it (a stray byte before the "
                         "first tag)",
    ("JPEG2000.dcm", ""): NO_GEOMETRY,
    ("JPEGLSNearLossless_16.dcm", ""): NO_GEOMETRY,
    ("ct-ge-tilt-varspacing", ""): "tilted stack with uneven gaps: dcm2niix's slice axis is the table axis at one "
                                   "fixed step, ours (as acquired, like SimpleITK) the slice normal at the mean step; "
                                   "neither places every slice where it was acquired (below)",
    ("ct-ge-tilt-varspacing", "_Tilt_Eq_1"): "dcm2niix's tilt-corrected, equalized volume: its own grid in the gantry "
                                             "frame; ours is table-aligned (below)",
}
for encoding in ["", "_RLE", "_big_endian", "_jpeg_2k_lossless", "_jpeg_ls_lossless"]:
    EXPLANATIONS[(f"emri_small{encoding}.dcm", "")] = NO_GEOMETRY
used_explanations = set()
unexplained = []


def disagreements(result):
    """What differs between dcm2niix's output and ours, as short words; empty when they agree."""
    found = []
    if result["status"] in ("not converted", "4d", "ours missing"):
        return [result["status"]]
    if result["size"] != list(result["ours"]["size"]) and np.prod(result["size"]) == 1:
        return ["placeholder"]
    if result["status"] == "grid differs":
        return ["grid"]
    if result["theirs"] is None:
        found.append("no geometry")
    elif result["geometry"]["corners"] > GEOMETRY_TOLERANCE_MM:
        found.append("geometry")
    hu = result["hu"]
    if not hu["identical"] or hu.get("count", 0):
        found.append("HU")
    return found


def single_slice_note(result):
    """One slice: the z spacing is a convention with no effect on any voxel's position."""
    ours, theirs = result["ours"], result.get("theirs")
    if theirs is None or ours["size"][2] != 1 or abs(ours["spacing"][2] - theirs["spacing"][2]) <= GEOMETRY_TOLERANCE_MM:
        return ""
    return (f"one slice: z spacing {theirs['spacing'][2]:g} mm (dcm2niix) vs {ours['spacing'][2]:g} mm (ours) is a "
            "convention; no voxel moves")


def explain(result, key):
    found = disagreements(result)
    suffix = "" if not result["output"] else re.sub(r"^series\d*", "", result["output"][:-4])
    note = single_slice_note(result) if result["status"] == "same grid" else ""
    if result.get("layout"):
        note = "; ".join(filter(None, [note, f"dcm2niix's array layout {result['layout']}"]))
    if not found:
        return "agree", note
    if (key, suffix) in EXPLANATIONS:
        used_explanations.add((key, suffix))
        return ", ".join(found), "; ".join(filter(None, [EXPLANATIONS[(key, suffix)], note]))
    unexplained.append(f"{key} {result['output'] or ''}: {', '.join(found)}")
    return ", ".join(found), "; ".join(filter(None, ["**unexplained**: " + "; ".join(result["messages"][:3]), note]))


def hu_text(hu):
    if hu is None:
        return "—"
    count = hu.get("count")
    if hu["identical"] and count in (None, 0):
        return f"**identical** ({hu['voxels']} voxels)"
    if count is None:
        return "differ (SHA-256)"
    text = f"max \\|Δ\\| {fmt(hu['max'], 4)}, mean \\|Δ\\| {fmt(hu['mean'], 4)}, {count} of {hu['voxels']} voxels"
    if hu.get("offset") is not None:
        text += f" (ours − dcm2niix = {hu['offset']:g} everywhere)"
    return text


DCM2NIIX_HEADER = ["| case | dcm2niix output | size | Δ origin (mm) | Δ spacing (mm) | Δ direction | max Δ corner (mm) | "
                   "HU against Hounsfield | verdict | note |", "|---|---|---|---|---|---|---|---|---|---|"]


def dcm2niix_rows(results, key_of=lambda result: result["case"]):
    lines = []
    for result in results:
        verdict, note = explain(result, key_of(result))
        output = f"`{result['output']}`" if result["output"] else "none"
        if result["status"] in ("not converted", "4d", "ours missing"):
            lines.append(f"| {result['case']} | {output} | — | — | — | — | — | — | {verdict} | {note} |")
            continue
        geometry = result.get("geometry")
        hu = result.get("hu") or result.get("slices")
        hu_cell = hu_text(hu) if result["status"] == "same grid" else (
            "not compared (other grid); stored slices " + ("identical, same order" if hu and hu["identical"] else "differ")
            if hu else "not compared (other grid)")
        if result["status"] == "same grid" and hu and hu["padding"]:
            hu_cell += f"; {hu['padding']} padding voxels (air in `run`)"
        cells = ["—"] * 4 if geometry is None else [fmt(geometry["origin"]), fmt(geometry["spacing"]),
                                                     fmt(geometry["direction"]), fmt(geometry["corners"])]
        lines.append(f"| {result['case']} | {output} | {size_text(result['size'])} | {' | '.join(cells)} | {hu_cell} | "
                     f"{verdict} | {note} |")
    return lines


# ---------------------------------------------------------------------------------------------------------------------
# The report.

lines = ["# Fidelity: Hounsfield against SimpleITK and dcm2niix", "",
         "Written by `scripts/fidelity.py` (do not edit by hand; rerun it). Hounsfield reads each case as acquired "
         "(`hounsfield inspect --json --stats`: the sorted stack, no tilt or spacing correction), so the comparison "
         "with SimpleITK is like for like.", "",
         "- **SimpleITK** columns: size; largest origin difference (mm); largest relative spacing difference; largest "
         "direction-cosine difference; HU by SHA-256 of the float32 volume in C order.",
         f"- **dcm2niix** ({dcm2niix_version}, PyPI wheel `{DCM2NIIX_REQUIREMENT}`, run here as `dcm2niix -z n -b n -g i "
         "-l o`, single-file mode for single files) columns: the NIfTI it wrote (it may split a series, e.g. `_Tilt`, "
         "`_Eq`, `_e2`); its size after alignment; origin distance, largest spacing and direction-cosine differences "
         "(mm, mm, cosine); the largest distance between the two tools' positions of the same corner voxel (mm, the "
         "number that matters). Its RAS affine (sform, else qform) is turned into LPS and its i, j, k axes are matched "
         "to ours by direction, so flips and permutations come from its geometry. Where the grids match (same size, "
         "corners within half a voxel) the HU — stored values × `scl_slope` + `scl_inter`, as float32 — are compared by "
         "SHA-256 with our as-acquired volume (padding kept) and voxel by voxel (max and mean \\|Δ\\|, differing "
         "voxels) with what `hounsfield run` writes with tilt and spacing kept and no transform; `run` turns padding "
         "into air, so dcm2niix's padding voxels are made air for that count. Where the grids differ, no voxel "
         "comparison is forced: the report says what each tool did. `verdict` lists what differs; every difference is "
         "explained in the note and in the last section.", ""]
header = ["| case | size | Δ origin (mm) | Δ spacing (rel.) | Δ direction | HU | note |", "|---|---|---|---|---|---|---|"]

# Real single-image and multi-frame sets: one file at a time, against SimpleITK's reference values and dcm2niix.
notes = {
    "eCT_Supplemental.dcm": "SimpleITK keeps the stored frame order (left-handed direction); we sort along the normal: "
                            "same voxels, k reversed (docs/geometry.md)",
    "JPGExtended.dcm": "12-bit JPEG extended: DCMTK's IJG codec (ours) and GDCM agree; pydicom disagrees",
    "emri_small.dcm": "no positions in the file: both tools guess the z spacing (we warn and use the slice thickness)",
}
for encoding in ["RLE", "big_endian", "jpeg_2k_lossless", "jpeg_ls_lossless"]:
    notes[f"emri_small_{encoding}.dcm"] = notes["emri_small.dcm"]
all_results = []
for case in ["syntax-set", "multiframe-set"]:
    reference = json.load(open(os.path.join(args.testdata, case, "reference.json")))
    lines += [f"## `{case}`", "", f"### Against SimpleITK {reference['tools'].get('SimpleITK', '')}", ""] + header
    by_file = {image["file"]: image for image in reference["images"]}
    dcm2niix_results = []
    for image in reference["images"]:
        path = os.path.join(args.testdata, case, image["file"])
        series = inspect(path)
        if series:
            dcm2niix_results += compare_with_dcm2niix(image["file"], path, series[0])
        else:
            files, messages = run_dcm2niix(path)
            dcm2niix_results.append({"case": image["file"], "output": os.path.basename(files[0]) if files else None,
                                     "status": "not converted" if not files else "ours missing", "messages": messages,
                                     "ours": None})
        if image["file"] == "no_meta.dcm" and "CT_small.dcm" in by_file:
            # No preamble, no file meta: SimpleITK cannot read it; it must give CT_small.dcm's values.
            small = by_file["CT_small.dcm"]
            lines.append(row(image["file"], series[0] if series else None, small, small["simpleitk"],
                             "no preamble or file meta, and a stray byte before the first tag: we exclude it and say where "
                             "(SimpleITK cannot read it either); a clean no-meta copy of CT_small decodes identically "
                             "(test suite)" if not series else "no preamble or file meta: against CT_small.dcm's reference"))
            continue
        if "simpleitk" not in image:
            lines.append(f"| {image['file']} | — | — | — | — | no SimpleITK reference | {notes.get(image['file'], '')} |")
            continue
        lines.append(row(image["file"], series[0] if series else None, image, image["simpleitk"],
                         notes.get(image["file"], "")))
    lines += ["", f"### Against dcm2niix {dcm2niix_version}", ""] + DCM2NIIX_HEADER + dcm2niix_rows(dcm2niix_results) + [""]
    all_results += dcm2niix_results

# The GE head CT with tilt and uneven spacing, as acquired and as corrected.
case = "ct-ge-tilt-varspacing"
folder = os.path.join(args.testdata, case)
reference = json.load(open(os.path.join(folder, "reference.json")))
ours = inspect(folder)[0]
lines += [f"## `{case}`", "", f"### Against SimpleITK {reference['tools'].get('SimpleITK', '')}", ""] + header
lines.append(row("as acquired (SimpleITK)", ours, reference["series"][0], reference["series"][0]["hu"],
                 "tilted plane, slice normal as z axis, mean z spacing: both tools"))
ge_results = compare_with_dcm2niix(case, folder, ours)
for result in ge_results:
    result["case"] = "as acquired" if result["output"] and re.fullmatch(r"series\d*\.nii", result["output"]) else "corrected"
lines += ["", f"### Against dcm2niix {dcm2niix_version}", ""] + DCM2NIIX_HEADER
lines += dcm2niix_rows(ge_results, key_of=lambda result: case) + [""]
all_results += ge_results
raw = next((r for r in ge_results if r["case"] == "as acquired" and r["status"] != "not converted"), None)
equalized = [r for r in ge_results if r["case"] == "corrected"]
tilt = next((w["value"] for w in ours["warnings"] if w["kind"] == "gantry_tilt"), 0.0)
corrected = ours.get("corrected") or {}


def grid_row(tool, size, spacing, direction, origin):
    axes = np.asarray(direction, dtype=float).reshape(3, 3)
    z_axis = ", ".join(f"{v:.3f}" for v in axes[:, 2])
    return (f"| {tool} | {size_text(size)} | {', '.join(f'{v:.3f}' for v in spacing)} | ({z_axis}) | "
            f"{', '.join(f'{v:.1f}' for v in origin)} |")


lines += ["What each tool makes of the tilted stack (LPS; z axis = direction of increasing k; origin = centre of voxel "
          "0):", "", "| volume | size | spacing (mm) | z axis | origin (mm) |", "|---|---|---|---|---|",
          grid_row("Hounsfield as acquired (`inspect`, SimpleITK's geometry)", ours["size"], ours["spacing"],
                   ours["direction"], ours["origin"])]
for result in [raw] + equalized:
    if result and result.get("theirs"):
        lines.append(grid_row(f"dcm2niix `{result['output']}` ({result['nifti']['source']}"
                              f"{', qform differs' if result['nifti']['qform_differs'] else ''})", result["theirs"]["size"],
                              result["theirs"]["spacing"], result["theirs"]["direction"], result["theirs"]["origin"]))
if corrected:
    lines.append(grid_row("Hounsfield corrected (`run` default: tilt and spacing corrected)", corrected["size"],
                          corrected["spacing"], corrected["direction"], corrected["origin"]))
lines.append("")
if raw and raw.get("placement"):
    placement = raw["placement"]
    gaps = placement["gaps"]
    runs = []  # the gaps as "4.22 × 13"
    for gap in gaps:
        if runs and abs(runs[-1][0] - gap) < 0.01:
            runs[-1][1] += 1
        else:
            runs.append([gap, 1])
    numbers = placement["numbers"]
    monotonic = all(n is not None for n in numbers) and (numbers == sorted(numbers) or numbers == sorted(numbers)[::-1])
    first_gap_along_normal = gaps[0] * math.cos(math.radians(tilt))
    lines += [
        f"The slices are {', '.join(f'{g:.2f} mm × {n}' for g, n in runs)} apart along the table (from "
        "ImagePositionPatient), and their planes are tilted "
        f"{tilt:.1f}° against it. NIfTI and the as-acquired geometry can hold one step along one axis only, so each "
        "tool's raw volume misplaces slices, by a different rule:",
        f"- **dcm2niix** (raw `{raw['output']}`) keeps each slice's rows and columns and puts its slice axis along the "
        f"table, one step of {raw['theirs']['spacing'][2]:.3f} mm: the first gap ({gaps[0]:.2f} mm) times "
        f"cos {tilt:.1f}° = {first_gap_along_normal:.3f} mm, i.e. the gap measured along the slice normal used as a "
        "step along the table (its sform is sheared; its qform cannot be and differs). Slice k lands up to "
        f"**{placement['theirs']:.1f} mm** from its ImagePositionPatient.",
        f"- **Hounsfield as acquired** (and SimpleITK) uses the slice normal as z axis and the mean step "
        f"({ours['spacing'][2]:.3f} mm, first to last position over n − 1): up to **{placement['ours']:.1f} mm**. "
        "`inspect` warns `gantry_tilt` and `non_uniform_spacing`, and `run` corrects both by default.",
        "- The stored slices themselves are "
        + ("bit-identical and in the same order in both tools" if raw.get("slices", {}).get("identical") else
           "**not** identical between the tools") + ": both sort by position. "
        "InstanceNumber runs " + ("with" if monotonic else "**against**") + " the spatial order here "
        f"({numbers[0]}…{numbers[-1]})"
        + ("; dcm2niix's warning \"Instance Number (0020,0013) order is not spatial\" is set off by the unequal gaps, "
           "not by the numbers: its check (`ensureSequentialSlicePositions`) wants every gap equal, then re-sorts by "
           "position, which changes nothing here." if monotonic else "."),
        ""]
for result in equalized:
    if not result.get("theirs"):
        continue
    theirs = result["theirs"]
    normal = np.asarray(ours["direction"]).reshape(3, 3)[:, 2]
    z_axis = np.asarray(theirs["direction"]).reshape(3, 3)[:, 2]
    lines += [
        f"**Corrected volumes.** dcm2niix's `{result['output']}` stays in the gantry frame: x and y are the stored row "
        f"and column directions, z is the slice normal (angle to our normal "
        f"{math.degrees(math.acos(min(1.0, abs(float(normal @ z_axis))))):.2f}°). It shifts each slice along its "
        f"columns by its distance from the first slice along the normal × tan {tilt:.1f}° (linear between rows, "
        "rounded to integers, nearest next to padding), "
        f"adding {theirs['size'][1] - ours['size'][1]} rows ({theirs['size'][1]} in all), then equalizes the slices "
        f"along the normal: its rule takes the smallest gap, but caps the count at twice the slice count, so here "
        f"{theirs['size'][2]} slices at {theirs['spacing'][2]:.3f} mm over the same span. Hounsfield's corrected grid "
        f"is aligned with the table (z axis ({', '.join(f'{v:.2f}' for v in np.asarray(corrected.get('direction', [0] * 9)).reshape(3, 3)[:, 2])})): "
        f"{size_text(corrected.get('size', []))} at {', '.join(f'{v:.3f}' for v in corrected.get('spacing', []))} mm, "
        "the smallest gap but no finer than half the mean, covering every acquired voxel (so z grows by the tilted "
        "slab's height and y shrinks to the slab's projection). The two grids share neither axes nor spacing: each is a "
        "valid resampling of the same anatomy, and neither is the scanner's, so they are not compared voxel by voxel.",
        ""]

# Synthetic series in every transfer syntax, against SimpleITK and dcm2niix here and now.
lines += ["## Synthetic series in every transfer syntax (64×64×20, `hounsfield synth`)", "", "### Against SimpleITK", ""]
lines += header
synthetic_results = []
work = tempfile.mkdtemp(prefix="synthetic-", dir=scratch)
try:
    for syntax in ["explicit", "implicit", "big-endian", "deflated", "jpeg-lossless", "jpeg-ls", "rle", "j2k"]:
        folder = os.path.join(work, syntax)
        subprocess.run([binary, "synth", "--output", folder, "--size", "64", "--slices", "20", "--syntax", syntax],
                       check=True, capture_output=True)
        series = inspect(folder)[0]
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        image = reader.Execute()
        array = sitk.GetArrayFromImage(image).astype("<f4")
        theirs = {"size": list(image.GetSize()), "spacing": list(image.GetSpacing()), "origin": list(image.GetOrigin()),
                  "direction": list(image.GetDirection())}
        hu = {"sha256": sha256(array), "min": float(array.min()), "max": float(array.max()), "mean": float(array.mean())}
        lines.append(row(syntax, series, theirs, hu))
        synthetic_results += compare_with_dcm2niix(syntax, folder, series)
    lines += ["", f"### Against dcm2niix {dcm2niix_version}", ""] + DCM2NIIX_HEADER + dcm2niix_rows(synthetic_results)
    lines.append("")
    all_results += synthetic_results

    # Resampling: the explicit synthetic series (128×128×40) to 1 mm, through `hounsfield run` (HU, float32, no other
    # step) and SimpleITK's Resample on the same grid (same origin and direction, size = round(size × spacing)).
    folder = os.path.join(work, "resample-input")
    subprocess.run([binary, "synth", "--output", folder, "--size", "128", "--slices", "40"], check=True, capture_output=True)
    lines += ["## Resampling to 1 mm against SimpleITK (128×128×40 synthetic CT, float32 HU)", "",
              "| interpolation | size | max \\|Δ\\| HU | mean \\|Δ\\| HU |", "|---|---|---|---|"]
    original = sitk.Cast(sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder)), sitk.sitkFloat32)
    # The synthetic series pads outside the reconstruction circle (PixelPaddingValue −2000, HU −3024); Hounsfield
    # turns padding into air (−1024) when it decodes, SimpleITK keeps it: give SimpleITK's input the same air first.
    padded = sitk.GetArrayFromImage(original)
    padded[padded == -3024.0] = -1024.0
    unpadded = sitk.GetImageFromArray(padded)
    unpadded.CopyInformation(original)
    original = unpadded
    for interpolation, sitk_interpolator in [("nearest", sitk.sitkNearestNeighbor), ("linear", sitk.sitkLinear),
                                             ("bspline", sitk.sitkBSpline)]:
        out = os.path.join(work, f"run-{interpolation}")
        subprocess.run([binary, "run", folder, "--output", out, "--spacing", "1", "--interpolation", interpolation,
                        "--salt", "fidelity"], check=True, capture_output=True)
        entry = json.loads(open(os.path.join(out, "manifest.jsonl")).readline())
        with h5py.File(os.path.join(out, entry["shard"]), "r") as f:
            ours_resampled = np.asarray(f[entry["path"]][...], dtype=np.float64)
        size = [int(round(n * s)) for n, s in zip(original.GetSize(), original.GetSpacing())]
        resampled = sitk.Resample(original, size, sitk.Transform(), sitk_interpolator, original.GetOrigin(), [1.0] * 3,
                                  original.GetDirection(), -1024.0, sitk.sitkFloat32)
        theirs_resampled = sitk.GetArrayFromImage(resampled).astype(np.float64)
        if ours_resampled.shape != theirs_resampled.shape:
            lines.append(f"| {interpolation} | {ours_resampled.shape} vs {theirs_resampled.shape} | — | — |")
            continue
        difference = np.abs(ours_resampled - theirs_resampled)
        lines.append(f"| {interpolation} | {'×'.join(map(str, ours_resampled.shape[::-1]))} | {difference.max():.2g} | "
                     f"{difference.mean():.2g} |")
    lines.append("")
finally:
    shutil.rmtree(scratch, ignore_errors=True)

# ---------------------------------------------------------------------------------------------------------------------
# Prose: SimpleITK first, then dcm2niix, each with the numbers measured above.

by_case = {result["case"]: result for result in all_results}
agreeing = [r for r in all_results if r["status"] == "same grid" and not disagreements(r)]
plain = [r["case"] for r in agreeing if r["ours"]["modality"] == "CT"]


ect = by_case.get("eCT_Supplemental.dcm")
single = [r for r in agreeing if single_slice_note(r)]
lines += ["## Where the tools disagree, and why", "", "### SimpleITK", "",
          "- **Gantry tilt** (`ct-ge-tilt-varspacing`): SimpleITK returns the tilted stack with the slice normal as z "
          "axis, which most training code then takes at face value; dcm2niix corrects it onto its own grid; "
          "Hounsfield reports the tilt (18.5°, measured from positions) and by default resamples onto a table-aligned, "
          "evenly spaced grid, recording the correction in the shard's attributes.",
          "- **Variable slice spacing**: SimpleITK warns and uses the mean spacing (slices land up to 4.5 mm from "
          "their true position along the stack); Hounsfield resamples onto even spacing by default "
          "(`loading.spacing: resample`) or refuses or splits the series, as configured.",
          "- **InstanceNumber order**: all three tools sort by position along the slice normal, so the volumes agree. "
          "Tools that sort by InstanceNumber or file name would not agree on series where the two orders differ.",
          "- **Frame order of `eCT_Supplemental.dcm`**: SimpleITK keeps the stored order and reports a left-handed "
          "direction; Hounsfield always sorts along the normal (right-handed direction, determinant +1). The voxels "
          "are the same, k reversed.",
          "- **12-bit JPEG extended** (`JPGExtended.dcm`): pydicom's decoders disagree with GDCM; DCMTK's IJG 12-bit "
          "codec (ours) gives exactly SimpleITK's values.",
          "- **Missing geometry** (`emri_small*`): the frames carry no position or orientation; every tool guesses. "
          "Hounsfield stacks them in instance order with the slice thickness as spacing and says so in a warning; "
          "SimpleITK uses 1 mm.",
          "- **Pixel padding**: scanners fill the outside of the reconstruction circle with PixelPaddingValue "
          "(here −2000 stored, −3024 HU). SimpleITK and dcm2niix keep it; Hounsfield makes it air (−1024 HU) unless "
          "told to keep it, so resampling never blends bogus −3000 HU into the body's edge.", "",
          f"### dcm2niix {dcm2niix_version}", ""]
decoded_ct = [r for r in all_results if r["status"] == "same grid" and r["ours"]["modality"] == "CT"]
decoded_ct_names = [f"`{r['case']}`" for r in decoded_ct]
single_names = [f"`{r['case']}`" for r in single]
lines.append(
    f"- **Agreement.** {len(agreeing)} of {len(all_results)} conversions give the same grid (every corner voxel within "
    f"{GEOMETRY_TOLERANCE_MM:g} mm; the residue, up to {max(r['geometry']['corners'] for r in agreeing if r['geometry']):.1g} "
    "mm, is NIfTI's float32 affine) and bit-identical HU. "
    + (f"That includes every CT dcm2niix decodes ({', '.join(decoded_ct_names)})"
       if len(plain) == len(decoded_ct) else
       f"**Not every CT dcm2niix decodes agrees** (agreeing: {', '.join(f'`{name}`' for name in plain)})")
    + ": dcm2niix's row flip (its NIfTI rows run up the image) and its slice order are undone by its own affine, and "
      "stored values × `scl_slope` + `scl_inter` give our HU exactly.")
if single:
    lines.append("- **One slice, different z spacing** ("
                 + ", ".join(sorted({f"{r['theirs']['spacing'][2]:g} vs {r['ours']['spacing'][2]:g} mm" for r in single}))
                 + f" in {', '.join(single_names)}): with a single "
                   "slice the z spacing places nothing. Both tools take SpacingBetweenSlices when the file has it; "
                   "without it dcm2niix takes SliceThickness and we take 1 mm, as GDCM does (docs/geometry.md: the "
                   "thickness is the slice's width, not a spacing). No voxel moves, so these count as agreeing.")
if ect and ect.get("mapping"):
    reversed_k = ect["mapping"][2][1] < 0
    lines.append(f"- **`eCT_Supplemental.dcm`** (enhanced CT, two frames stored against the normal, rescale only in the "
                 f"shared functional groups): dcm2niix applies that rescale (`scl_inter` {ect['nifti']['inter']:g}) and "
                 + ("its slice axis runs opposite to ours (k reversed by the alignment)" if reversed_k else
                    "its slice axis already runs along the normal as ours does (no reversal needed; SimpleITK's runs "
                    "the other way)")
                 + "; the voxels are " + ("identical." if not disagreements(ect) else f"not identical: {hu_text(ect.get('hu'))}."))
no_geometry = [r for r in all_results if r.get("status") == "same grid" and r.get("theirs") is None]
layouts = {}
for result in no_geometry:
    layouts.setdefault(result["layout"], []).append(f"`{result['case']}`")
lines += [
    "- **12-bit lossy JPEG** (`JPEG-lossy.dcm`, `JPGExtended.dcm`, 1.2.840.10008.1.2.4.51): this dcm2niix build "
    "(OpenJPEG and CharLS, no TurboJPEG) refuses it: \"Unable to decode 16-bit images with Transfer Syntax "
    "1.2.840.10008.1.2.4.51, decompress with dcmdjpg or gdcmconv\". It writes nothing, so there is nothing to compare; "
    "our values equal SimpleITK's.",
    "- **Deflated transfer syntax** (`image_dfl.dcm`, synthetic `deflated`): dcm2niix does not inflate "
    "1.2.840.10008.1.2.1.99 (\"Unsupported transfer syntax\"). For the series it writes nothing (\"No valid DICOM "
    "images were found\"); for the single file it still writes a "
    f"{size_text(by_case.get('image_dfl.dcm', {}).get('size', ['?']))} volume, which holds no image. Both are dcm2niix "
    "limitations; SimpleITK and we decode these files identically.",
    "- **`no_meta.dcm`**: no preamble or file meta, and a stray byte before the first tag. dcm2niix says \"Not a DICOM "
    "image\" and we exclude the file with the reason: the tools agree that there is nothing to convert.",
    "- **No geometry in the file** ("
    + ", ".join(f"`{name}`" for name in sorted({r["case"] for r in no_geometry}))
    + "): no ImagePositionPatient or ImageOrientationPatient. dcm2niix writes sform and qform codes 0 (for the `emri` "
      "frames it also warns \"Unable to determine spatial orientation\" and \"Bogus spatial matrix\"), so its NIfTI "
      "has no world coordinates "
      "to compare with ours (we assume identity orientation at origin 0 and warn `assumed_geometry`) or to align by. "
      "Its array layout then depends on its code path: single images get its usual row flip, while the `emri` frames "
      "(MRAcquisitionType 3D) go through its 3D-acquisition reorientation (`nii_setOrtho`) from an assumed "
      "orientation, which leaves the rows as stored. The script therefore finds the layout by content (the one of the "
      "eight axis flips that matches; "
    + "; ".join(f"{layout.replace('found by content: ', '')} in {', '.join(cases)}" for layout, cases in layouts.items())
    + ") and then the pixel data are "
    + ("identical in every case." if all(not r["hu"].get("count") and r["hu"]["identical"] for r in no_geometry)
       else "**not** identical in every case: " + ", ".join(r["case"] for r in no_geometry if r["hu"].get("count")) + "."),
    "- **Gantry tilt and uneven gaps** (`ct-ge-tilt-varspacing`): see that section. In short, both raw volumes hold "
    "the same stored slices in the same order, and both misplace them (dcm2niix along the table at a fixed step, "
    "Hounsfield's as-acquired view and SimpleITK along the normal at the mean step); the tools' corrected volumes are "
    "valid but on different grids (dcm2niix: gantry frame, slices along the normal, extended in y; ours: table frame, "
    "extended in z). dcm2niix's \"Instance Number order is not spatial\" warning there is a false alarm set off by the "
    "uneven gaps.",
    "- **Pixel padding**: dcm2niix keeps PixelPaddingValue in the data (and fills outside the tilted slab with it); "
    "`run` turns it into air. The hashes above compare against our as-acquired volume, where padding is kept; the "
    "voxel counts against `run` first give dcm2niix's padding voxels the same air.",
    ""]
if unexplained:
    lines += ["**Unexplained differences** (add an explanation to `EXPLANATIONS` in scripts/fidelity.py once understood):",
              ""] + [f"- {item}" for item in unexplained] + [""]
stale = set(EXPLANATIONS) - used_explanations
for key, suffix in sorted(stale):
    print(f"fidelity: explanation for {key}{suffix} was not needed: is it still true?", file=sys.stderr)
with open(args.output, "w") as file:
    file.write("\n".join(lines))
for item in unexplained:
    print(f"fidelity: unexplained dcm2niix difference: {item}", file=sys.stderr)
print(f"fidelity: wrote {args.output} in {time.monotonic() - started:.1f} s")
