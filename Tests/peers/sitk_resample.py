"""SimpleITK's ResampleImageFilter on a raw float32 volume, onto a given grid: the reference for Hounsfield's
resampling tests. Usage: sitk_resample.py spec.json (fields: input, output, size, origin, spacing, direction,
out_size, out_origin, out_spacing, out_direction, interpolation, fill)."""
import json
import sys

import numpy as np
import SimpleITK as sitk

spec = json.load(open(sys.argv[1]))
array = np.fromfile(spec["input"], dtype="<f4").reshape(spec["size"][::-1])
image = sitk.GetImageFromArray(array)
image.SetOrigin(spec["origin"])
image.SetSpacing(spec["spacing"])
image.SetDirection(spec["direction"])
resampler = sitk.ResampleImageFilter()
resampler.SetOutputOrigin(spec["out_origin"])
resampler.SetOutputSpacing(spec["out_spacing"])
resampler.SetOutputDirection(spec["out_direction"])
resampler.SetSize([int(v) for v in spec["out_size"]])
resampler.SetInterpolator({"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor, "bspline": sitk.sitkBSpline}[spec["interpolation"]])
resampler.SetDefaultPixelValue(spec["fill"])
resampler.SetOutputPixelType(sitk.sitkFloat32)
sitk.GetArrayFromImage(resampler.Execute(image)).astype("<f4").tofile(spec["output"])
