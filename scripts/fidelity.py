"""Writes docs/fidelity.md: Hounsfield against SimpleITK (and dcm2niix where recorded) on every real case in
../shared/testdata and on synthetic series in every transfer syntax, plus resampling against SimpleITK.

    scripts/test.sh                     # once: builds hounsfield and makes .venv-test (SimpleITK, h5py, numpy)
    .venv-test/bin/python scripts/fidelity.py [--output docs/fidelity.md]

The real cases are compared with their reference.json (SimpleITK 2.5.7 and dcm2niix, recorded by the test-data
script); the synthetic ones with SimpleITK run here. Geometry differences are in mm (origin), relative (spacing) and
absolute (direction cosines); HU differences by SHA-256 of the float32 volume and by min/max/mean.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import SimpleITK as sitk

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


lines = ["# Fidelity: Hounsfield against SimpleITK and dcm2niix", "",
         "Written by `scripts/fidelity.py` (do not edit by hand; rerun it). Hounsfield reads each case as acquired "
         "(`hounsfield inspect --json --stats`: the sorted stack, no tilt or spacing correction), so the comparison "
         "with SimpleITK is like for like. Columns: size; largest origin difference (mm); largest relative spacing "
         "difference; largest direction-cosine difference; HU by SHA-256 of the float32 volume in C order.", ""]
header = ["| case | size | Δ origin (mm) | Δ spacing (rel.) | Δ direction | HU | note |", "|---|---|---|---|---|---|---|"]

# Real single-image and multi-frame sets: one file at a time, against SimpleITK's reference values.
notes = {
    "eCT_Supplemental.dcm": "SimpleITK keeps the stored frame order (left-handed direction); we sort along the normal: "
                            "same voxels, k reversed (docs/geometry.md)",
    "JPGExtended.dcm": "12-bit JPEG extended: DCMTK's IJG codec (ours) and GDCM agree; pydicom disagrees",
    "emri_small.dcm": "no positions in the file: both tools guess the z spacing (we warn and use the slice thickness)",
}
for encoding in ["RLE", "big_endian", "jpeg_2k_lossless", "jpeg_ls_lossless"]:
    notes[f"emri_small_{encoding}.dcm"] = notes["emri_small.dcm"]
for case in ["syntax-set", "multiframe-set"]:
    reference = json.load(open(os.path.join(args.testdata, case, "reference.json")))
    lines += [f"## `{case}` (against SimpleITK {reference['tools'].get('SimpleITK', '')})", ""] + header
    by_file = {image["file"]: image for image in reference["images"]}
    for image in reference["images"]:
        if image["file"] == "no_meta.dcm" and "CT_small.dcm" in by_file:
            # No preamble, no file meta: SimpleITK cannot read it; it must give CT_small.dcm's values.
            series = inspect(os.path.join(args.testdata, case, image["file"]))
            small = by_file["CT_small.dcm"]
            lines.append(row(image["file"], series[0] if series else None, small, small["simpleitk"],
                             "no preamble or file meta, and a stray byte before the first tag: we exclude it and say where "
                             "(SimpleITK cannot read it either); a clean no-meta copy of CT_small decodes identically "
                             "(test suite)" if not series else "no preamble or file meta: against CT_small.dcm's reference"))
            continue
        if "simpleitk" not in image:
            lines.append(f"| {image['file']} | — | — | — | — | no SimpleITK reference | {notes.get(image['file'], '')} |")
            continue
        series = inspect(os.path.join(args.testdata, case, image["file"]))
        lines.append(row(image["file"], series[0] if series else None, image, image["simpleitk"],
                         notes.get(image["file"], "")))
    lines.append("")

# The GE head CT with tilt and uneven spacing, as acquired and as corrected.
case = "ct-ge-tilt-varspacing"
reference = json.load(open(os.path.join(args.testdata, case, "reference.json")))
ours = inspect(os.path.join(args.testdata, case))[0]
lines += [f"## `{case}`", ""] + header
lines.append(row("as acquired (SimpleITK)", ours, reference["series"][0], reference["series"][0]["hu"],
                 "sheared direction, mean z spacing: both tools"))
corrected = ours.get("corrected") or {}
outputs = reference.get("dcm2niix", {}).get("outputs", [])
lines += ["", "Corrected for tilt and resampled to even spacing (what `hounsfield run` writes by default), against "
              "dcm2niix's `_Tilt_Eq_1` output:", "",
          "| tool | size | spacing (mm) |", "|---|---|---|",
          f"| Hounsfield | {'×'.join(map(str, corrected.get('size', [])))} | "
          f"{', '.join(f'{v:.3f}' for v in corrected.get('spacing', []))} |"]
for output in outputs:
    lines.append(f"| dcm2niix `{output['name'][-16:]}` | {'×'.join(map(str, output['shape']))} | "
                 f"{', '.join(f'{v:.3f}' for v in output['zooms'])} |")
lines += ["", "dcm2niix's raw NIfTI keeps a 4.00 mm z spacing (NIfTI cannot store uneven spacing): the slices are "
              "placed at the wrong positions. Its tilt-equalized output and ours differ in grid: dcm2niix keeps the "
              "in-plane size and pads y to 611 rows at its smallest slice gap (2.62 mm); we resample onto a grid that "
              "covers the acquired slab at the median gap (2.81 mm), giving 485 rows. Both are valid resamplings of "
              "the same data; neither is the scanner's.", ""]

# Synthetic series in every transfer syntax, against SimpleITK here and now.
lines += ["## Synthetic series in every transfer syntax (64×64×20, `hounsfield synth`)", ""] + header
work = tempfile.mkdtemp(prefix="hounsfield-fidelity-")
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
        hu = {"sha256": hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest(), "min": float(array.min()),
              "max": float(array.max()), "mean": float(array.mean())}
        lines.append(row(syntax, series, theirs, hu))
    lines.append("")

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
            ours = np.asarray(f[entry["path"]][...], dtype=np.float64)
        size = [int(round(n * s)) for n, s in zip(original.GetSize(), original.GetSpacing())]
        resampled = sitk.Resample(original, size, sitk.Transform(), sitk_interpolator, original.GetOrigin(), [1.0] * 3,
                                  original.GetDirection(), -1024.0, sitk.sitkFloat32)
        theirs = sitk.GetArrayFromImage(resampled).astype(np.float64)
        if ours.shape != theirs.shape:
            lines.append(f"| {interpolation} | {ours.shape} vs {theirs.shape} | — | — |")
            continue
        difference = np.abs(ours - theirs)
        lines.append(f"| {interpolation} | {'×'.join(map(str, ours.shape[::-1]))} | {difference.max():.2g} | "
                     f"{difference.mean():.2g} |")
    lines.append("")
finally:
    shutil.rmtree(work, ignore_errors=True)

lines += ["## Where the tools disagree, and why", "",
          "- **Gantry tilt** (`ct-ge-tilt-varspacing`): SimpleITK returns the tilted stack with a sheared direction "
          "matrix, which most training code then ignores; dcm2niix corrects it onto its own grid; Hounsfield reports "
          "the tilt (18.5°, measured from positions) and by default resamples onto a table-aligned, evenly spaced "
          "grid, recording the correction in the shard's attributes.",
          "- **Variable slice spacing**: SimpleITK warns and uses the mean spacing (slices land up to 4.5 mm from "
          "their true position); dcm2niix's raw output does the same with a fixed gap; Hounsfield resamples onto even "
          "spacing by default (`loading.spacing: resample`) or refuses or splits the series, as configured.",
          "- **InstanceNumber order**: in the GE case InstanceNumber is not spatial; all three tools sort by position "
          "along the slice normal, so the volumes agree. Tools that sort by InstanceNumber or file name would not.",
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
          "told to keep it, so resampling never blends bogus −3000 HU into the body's edge.", ""]
with open(args.output, "w") as file:
    file.write("\n".join(lines))
print(f"fidelity: wrote {args.output}")
