"""SimpleITK's side of the resampling benchmark: read the series once, then time ResampleImageFilter to an isotropic
spacing with the SimpleITK-users' grid (same origin and direction, size = round(size * spacing / target))."""
import json
import sys
import time

import numpy as np
import SimpleITK as sitk

folder, spacing, interpolation, repeats = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
image = sitk.Cast(sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder)), sitk.sitkFloat32)
size = [int(round(n * s / spacing)) for n, s in zip(image.GetSize(), image.GetSpacing())]
times = []
for _ in range(repeats):
    start = time.perf_counter()
    out = sitk.Resample(image, size, sitk.Transform(), {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor, "bspline": sitk.sitkBSpline}[interpolation],
                        image.GetOrigin(), [spacing] * 3, image.GetDirection(), -1024.0, sitk.sitkFloat32)
    times.append(time.perf_counter() - start)
print(json.dumps({"times_s": times, "median_s": float(np.median(times)), "output_size": list(out.GetSize()),
                  "threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}))
