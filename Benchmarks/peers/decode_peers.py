"""More peers for the decode benchmark (issue 7): read one DICOM series folder to HU as each tool's users do, and
the floor beside them. Prints one JSON line like sitk_read.py: times_s (the last one is the warm run that counts),
median_s, and the HU's sum and SHA-256 where the tool gives a (z, y, x) array.

    decode_peers.py FOLDER REPEATS MODE
MODE:
  pydicom     pydicom.dcmread every file, sort along the slice normal, stack pixel_array × slope + intercept
              (the "pydicom + numpy" script people write; JPEG needs pylibjpeg, installed by run.sh)
  torchio     torchio.ScalarImage(folder).data (SimpleITK underneath), transposed to (z, y, x)
  dcm2niix    the dcm2niix executable converting the folder to an uncompressed NIfTI (process wall time; its
              HU sum is read back with nibabel, the SHA-256 is left out: NIfTI reorders rows)
  page-cache  read every file's bytes (the floor: no parsing, no decoding)
"""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

folder, repeats, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = sorted(path for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True) if os.path.isfile(path))


def pydicom_volume():
    import pydicom
    slices = [pydicom.dcmread(path) for path in files]
    row, column = (np.array(slices[0].ImageOrientationPatient[:3], float),
                   np.array(slices[0].ImageOrientationPatient[3:], float))
    normal = np.cross(row, column)
    slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, float))))
    volume = np.empty((len(slices), slices[0].Rows, slices[0].Columns), dtype=np.float32)
    for k, s in enumerate(slices):
        volume[k] = s.pixel_array * float(getattr(s, "RescaleSlope", 1)) + float(getattr(s, "RescaleIntercept", 0))
    return volume


def torchio_volume():
    import torchio
    data = torchio.ScalarImage(folder).data  # (1, x, y, z)
    return np.ascontiguousarray(data[0].numpy().transpose(2, 1, 0), dtype=np.float32)


def dcm2niix_volume():
    executable = shutil.which("dcm2niix", path=os.path.dirname(sys.executable)) or shutil.which("dcm2niix")
    if executable is None:
        raise SystemExit("dcm2niix not found (run.sh installs the dcm2niix wheel into the venv)")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([executable, "-z", "n", "-b", "n", "-f", "volume", "-o", out, folder], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import nibabel
        image = nibabel.load(glob.glob(os.path.join(out, "*.nii"))[0])
        return np.asarray(image.get_fdata(dtype=np.float32))


def page_cache():
    total = 0
    for path in files:
        with open(path, "rb") as file:
            total += len(file.read())
    return total


times, result = [], {"mode": mode}
volume = None
for _ in range(repeats):
    volume = None
    start = time.perf_counter()
    if mode == "pydicom":
        volume = pydicom_volume()
    elif mode == "torchio":
        volume = torchio_volume()
    elif mode == "dcm2niix":
        volume = dcm2niix_volume()
    elif mode == "page-cache":
        result["bytes"] = page_cache()
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    times.append(time.perf_counter() - start)
result.update({"times_s": times, "median_s": float(np.median(times))})
if volume is not None:
    result["hu_sum"] = float(volume.astype(np.float64).sum())
    result["voxels"] = int(volume.size)
    if mode != "dcm2niix":
        result["sha256"] = hashlib.sha256(np.ascontiguousarray(volume, dtype="<f4").tobytes()).hexdigest()
print(json.dumps(result))
