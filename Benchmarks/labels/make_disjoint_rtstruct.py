"""An RTSTRUCT of many ROIs that do not overlap (spheres of 4-14 mm radius, as organs at risk are drawn), made by
rt-utils from the CT files, for measuring what a run holds while it turns a structure set into a class map.

Usage: make_disjoint_rtstruct.py --ct CT_FOLDER --output FILE [--rois 60] [--seed 5]"""
import argparse

import numpy as np
from rt_utils import RTStructBuilder

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ct", required=True)
parser.add_argument("--output", required=True)
parser.add_argument("--rois", type=int, default=60)
parser.add_argument("--seed", type=int, default=5)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
structure_set = RTStructBuilder.create_new(dicom_series_path=args.ct)
slices = structure_set.series_data  # rt-utils' own slice order: masks are (rows, columns, slices) in it
first = slices[0]
row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
rows, columns = int(first.Rows), int(first.Columns)
x0, y0 = (float(v) for v in first.ImagePositionPatient[:2])
heights = np.array([float(ds.ImagePositionPatient[2]) for ds in slices])  # axial series: z is the normal
xs, ys = x0 + np.arange(columns) * column_spacing, y0 + np.arange(rows) * row_spacing

spheres = []
while len(spheres) < args.rois:
    radius = rng.uniform(4, 14)
    centre = np.array([rng.uniform(xs[0] + 80, xs[-1] - 80), rng.uniform(ys[0] + 80, ys[-1] - 80),
                       rng.uniform(heights.min() + 20, heights.max() - 20)])
    if all(np.linalg.norm(centre - other) > radius + r + 2 for other, r in spheres):  # 2 mm apart at least
        spheres.append((centre, radius))
for number, (centre, radius) in enumerate(spheres):
    mask = np.zeros((rows, columns, len(slices)), bool)
    for k, height in enumerate(heights):
        dz = height - centre[2]
        if abs(dz) < radius:
            inside = radius * radius - dz * dz
            mask[:, :, k] = (xs[None, :] - centre[0]) ** 2 + (ys[:, None] - centre[1]) ** 2 <= inside
    structure_set.add_roi(mask=mask, name="organ%02d" % number)
structure_set.save(args.output)
