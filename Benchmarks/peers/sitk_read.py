"""SimpleITK's side: discover the series in a folder and read it, as users do; time it in process.

    sitk_read.py FOLDER REPEATS MODE
MODE:
  series-reader  ImageSeriesReader: GetGDCMSeriesFileNames(folder) + SetFileNames + Execute (the usual way to read a
                 DICOM folder with SimpleITK; the headline number)
  read           GetGDCMSeriesFileNames(folder) + sitk.ReadImage(list_of_files)
  discover       walk the folders, GetGDCMSeriesIDs + GetGDCMSeriesFileNames in each (headers only)
Prints one JSON line: times_s, median_s, and for the read modes the SHA-256 of the float32 HU volume in C order.
"""
import hashlib
import json
import os
import sys
import time

import numpy as np
import SimpleITK as sitk

folder, repeats, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode not in ("series-reader", "read", "discover"):
    raise SystemExit(f"unknown mode {mode!r}")
times = []
image = None
for _ in range(repeats):
    image = None  # let the previous volume go, so peak RSS is one volume's worth, as on our side
    start = time.perf_counter()
    if mode == "discover":
        # GetGDCMSeriesIDs does not recurse: walk the folders, as users do, and list every series' files.
        count = 0
        for directory, _, _ in os.walk(folder):
            for series in sitk.ImageSeriesReader.GetGDCMSeriesIDs(directory):
                count += len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, series))
    elif mode == "series-reader":
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        image = reader.Execute()
    else:
        image = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
    times.append(time.perf_counter() - start)
result = {"mode": mode, "times_s": times, "median_s": float(np.median(times))}
if image is not None:
    array = sitk.GetArrayFromImage(image)
    result["pixel_type"] = image.GetPixelIDTypeAsString()
    result["sha256"] = hashlib.sha256(np.ascontiguousarray(array, dtype="<f4").tobytes()).hexdigest()
    result["hu_sum"] = float(array.astype(np.float64).sum())
    result["size"] = list(image.GetSize())
    result["threads"] = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
if mode == "discover":
    result["files"] = count
print(json.dumps(result))
