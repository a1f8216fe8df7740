"""SimpleITK's side: discover the series in a folder and read it, as users do; time it in process."""
import hashlib
import json
import os
import sys
import time

import numpy as np
import SimpleITK as sitk

folder, repeats, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = []
image = None
for _ in range(repeats):
    start = time.perf_counter()
    if mode == "discover":
        # GetGDCMSeriesIDs does not recurse: walk the folders, as users do, and list every series' files.
        count = 0
        for directory, _, _ in os.walk(folder):
            for series in sitk.ImageSeriesReader.GetGDCMSeriesIDs(directory):
                count += len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, series))
    else:
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder)
        image = sitk.ReadImage(files)
    times.append(time.perf_counter() - start)
result = {"times_s": times, "median_s": float(np.median(times))}
if image is not None:
    array = sitk.GetArrayFromImage(image).astype("<f4")
    result["sha256"] = hashlib.sha256(array.tobytes()).hexdigest()
    result["size"] = list(image.GetSize())
    result["threads"] = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
if mode == "discover":
    result["files"] = count
print(json.dumps(result))
