"""Label objects for the label-decoding benchmark, made by the tools users make them with, on a synthetic CT series:
an RTSTRUCT of 20 ROIs written by rt-utils (it traces the masks into contours) and a BINARY DICOM SEG of 100 segments
written by highdicom (empty frames omitted, highdicom's default). Seeded, so the same inputs come out every time.
Usage: make_inputs.py --ct CT_FOLDER --output LABEL_FOLDER. Writes rtstruct.dcm, seg.dcm and inputs.json (names and
source voxel counts of every class) into LABEL_FOLDER; keep it apart from the CT folder (rt-utils reads every file
with pixels in the folder it is given as the series, a SEG included)."""
import argparse
import json
import os

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from rt_utils import RTStructBuilder

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ct", required=True)
parser.add_argument("--output", required=True)
parser.add_argument("--rois", type=int, default=20)
parser.add_argument("--segments", type=int, default=100)
parser.add_argument("--seed", type=int, default=20)
args = parser.parse_args()
os.makedirs(args.output, exist_ok=True)
rng = np.random.default_rng(args.seed)


def position(ds):
    iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
    return float(np.dot(np.cross(iop[:3], iop[3:]), np.asarray(ds.ImagePositionPatient, dtype=float)))


def plane_points(ds):
    """Patient coordinates (LPS mm) of every pixel centre of one image: (rows, columns, 3)."""
    iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
    ipp = np.asarray(ds.ImagePositionPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    j, i = np.mgrid[:int(ds.Rows), :int(ds.Columns)]
    return ipp + i[..., None] * column_spacing * iop[:3] + j[..., None] * row_spacing * iop[3:]


files = [os.path.join(args.ct, f) for f in sorted(os.listdir(args.ct))]
datasets = sorted((pydicom.dcmread(f) for f in files), key=position)
points = [plane_points(ds) for ds in datasets]
low, high = points[0].reshape(-1, 3).min(0), points[-1].reshape(-1, 3).max(0)
low[2], high[2] = min(p[0, 0, 2] for p in points), max(p[0, 0, 2] for p in points)
extent = high - low


def ellipsoids_mask(shapes, hollow=0.0):
    """(slices, rows, columns) bool: the union of ellipsoids (centre, semi-axes in mm), minus the same ellipsoids
    shrunk by `hollow` (a shell) when it is positive. Only the slices an ellipsoid reaches are evaluated."""
    mask = np.zeros((len(points),) + points[0].shape[:2], dtype=bool)
    for k, plane in enumerate(points):
        for centre, axes in shapes:
            if abs(plane[0, 0, 2] - centre[2]) > axes[2]:
                continue
            r = np.sum(((plane - centre) / axes) ** 2, axis=-1)
            inside = r <= 1
            if hollow > 0:
                inside &= np.sum(((plane - centre) / (axes * (1 - hollow))) ** 2, axis=-1) > 1
            mask[k] |= inside
    return mask


def random_centre(margin):
    return low + margin + rng.random(3) * (extent - 2 * margin)


# RTSTRUCT: 20 ROIs of varied size through many slices; blobs of two or three ellipsoids, pairs that overlap, shells.
rois = []
for n in range(args.rois):
    axes = np.array([rng.uniform(10, 60), rng.uniform(10, 60), rng.uniform(15, 90)])
    centre = random_centre(axes + 5)
    if n % 5 == 1 and rois:  # overlaps the previous ROI
        centre = rois[-1][1][0][0] + rng.uniform(-0.5, 0.5, 3) * rois[-1][1][0][1]
        centre = np.clip(centre, low + axes + 5, high - axes - 5)
    shapes = [(centre, axes)]
    if n % 3 == 2:  # a blob: two or three ellipsoids around one centre
        for _ in range(int(rng.integers(1, 3))):
            shapes.append((centre + rng.uniform(-0.6, 0.6, 3) * axes, axes * rng.uniform(0.4, 0.8, 3)))
    rois.append((f"roi-{n + 1:02d}", shapes, 0.35 if n % 7 == 6 else 0.0))
rtstruct = RTStructBuilder.create_new(dicom_series_path=args.ct)
order = np.argsort([position(ds) for ds in rtstruct.series_data])
rank = np.empty_like(order)
rank[order] = np.arange(len(order))  # rt-utils' slice k is our slice rank[k]
roi_counts = {}
for name, shapes, hollow in rois:
    mask = ellipsoids_mask(shapes, hollow)
    roi_counts[name] = int(mask.sum())
    rtstruct.add_roi(mask=np.moveaxis(mask[rank], 0, -1), name=name)
rtstruct.save(os.path.join(args.output, "rtstruct.dcm"))

# SEG: 100 small blobs (spheres of 3 to 12 mm), spread over the volume without overlapping, as one label array.
labels = np.zeros((len(points),) + points[0].shape[:2], dtype=np.uint8)
placed = []
while len(placed) < args.segments:
    radius = rng.uniform(3, 12)
    centre = random_centre(np.array([radius + 2] * 3))
    if any(np.linalg.norm(centre - c) < radius + r + 2 for c, r in placed):
        continue
    placed.append((centre, radius))
for value, (centre, radius) in enumerate(placed, start=1):
    labels[ellipsoids_mask([(centre, np.array([radius] * 3))])] = value
descriptions = [
    hd.seg.SegmentDescription(
        segment_number=value, segment_label=f"segment-{value:03d}", segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Tissue, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    for value in range(1, args.segments + 1)]
seg = hd.seg.Segmentation(
    source_images=datasets, pixel_array=labels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
    segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=900, sop_instance_uid=hd.UID(),
    instance_number=1, manufacturer="Hounsfield benchmarks", manufacturer_model_name="labels", software_versions="1",
    device_serial_number="1")
seg.save_as(os.path.join(args.output, "seg.dcm"))
segment_counts = {f"segment-{v:03d}": int(c) for v, c in enumerate(np.bincount(labels.ravel(), minlength=256)) if
                  1 <= v <= args.segments}
json.dump({"rtstruct": {"file": "rtstruct.dcm", "rois": roi_counts},
           "seg": {"file": "seg.dcm", "segments": segment_counts, "frames": int(seg.NumberOfFrames)}},
          open(os.path.join(args.output, "inputs.json"), "w"), indent=1)
print(json.dumps({"rois": len(roi_counts), "segments": len(segment_counts), "seg_frames": int(seg.NumberOfFrames)}))
