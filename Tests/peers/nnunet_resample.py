"""nnU-Net v2's image resampling (default_resampling.resample_data_or_seg, for data), with skimage and scipy as
nnU-Net calls them: the reference for Hounsfield's NNUNetResample. Arrays are (z, y, x) and spacings reversed to
match, as nnU-Net's SimpleITK reader produces them.
With `"segmentation": true` the input is a label map resampled as nnU-Net resamples segmentations (resize_segmentation
with order 1 per slice or in 3-D, then order_z 0 along the coarse axis).
Usage: nnunet_resample.py spec.json (fields: input, output, size [x,y,z], spacing [x,y,z], target [x,y,z], threshold,
segmentation)."""
import json
import sys

import numpy as np
from scipy.ndimage import map_coordinates
from skimage.transform import resize

spec = json.load(open(sys.argv[1]))
data = np.fromfile(spec["input"], dtype="<f4").reshape(spec["size"][::-1]).astype(float)
current_spacing = np.array(spec["spacing"][::-1], dtype=float)
new_spacing = np.array(spec["target"][::-1], dtype=float)
threshold = spec["threshold"]
shape = np.array(data.shape)
new_shape = np.round(((current_spacing / new_spacing).astype(float) * shape)).astype(int)


def separate_z(spacing):
    return (np.max(spacing) / np.min(spacing)) > threshold


def lowres_axis(spacing):
    return np.where(max(spacing) / np.array(spacing) == 1)[0]


axis = lowres_axis(current_spacing) if separate_z(current_spacing) else (
    lowres_axis(new_spacing) if separate_z(new_spacing) else None)
do_separate_z = axis is not None and len(axis) == 1
kwargs = {"mode": "edge", "anti_aliasing": False}
segmentation = bool(spec.get("segmentation", False))


def resize_segmentation(seg, new_shape, order=1):
    """nnU-Net v2's acvl_utils/nnunetv2 resize_segmentation, verbatim in substance."""
    reshaped = np.zeros(new_shape, dtype=seg.dtype)
    for c in np.unique(seg):
        mask = seg == c
        reshaped_multihot = resize(mask.astype(float), new_shape, order, mode="edge", clip=True, anti_aliasing=False)
        reshaped[reshaped_multihot >= 0.5] = c
    return reshaped


def resize_fn(array, new_shape, order):
    return resize_segmentation(array, new_shape, 1) if segmentation else resize(array, new_shape, order, **kwargs)


if np.all(shape == new_shape):
    out = data
elif do_separate_z:
    assert axis[0] == 0, "the test cases are axial: the coarse axis is z"
    reshaped = np.stack([resize_fn(data[s], new_shape[1:], 3) for s in range(shape[0])], 0)
    if shape[0] != new_shape[0]:
        rows, cols, dim = new_shape
        orig_rows, orig_cols, orig_dim = reshaped.shape
        map_rows, map_cols, map_dims = np.mgrid[:rows, :cols, :dim]
        map_rows = float(orig_rows) / rows * (map_rows + 0.5) - 0.5
        map_cols = float(orig_cols) / cols * (map_cols + 0.5) - 0.5
        map_dims = float(orig_dim) / dim * (map_dims + 0.5) - 0.5
        out = map_coordinates(reshaped, np.array([map_rows, map_cols, map_dims]), order=0, mode="nearest")
    else:
        out = reshaped
else:
    out = resize_fn(data, new_shape, 3)
out.astype("<f4").tofile(spec["output"])

