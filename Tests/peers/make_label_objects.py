"""Label objects made by the tools users make them with, for the round-trip test: a sphere of known centre and radius
(LPS mm) on a CT series, written as a DICOM SEG by highdicom, as an RTSTRUCT by rt-utils, and as a NIfTI label map by
nibabel, plus an RTSTRUCT of the sphere inside a BODY outline (two overlapping ROIs). Each tool works from the CT
files themselves, as it would for a user.
Usage: make_label_objects.py spec.json (fields: series (folder of the CT files), output (folder), centre [x, y, z],
radius, name)."""
import json
import os
import sys

import highdicom as hd
import nibabel as nib
import numpy as np
from pydicom.sr.codedict import codes
from rt_utils import RTStructBuilder

from ct_series import normal, read_series

spec = json.load(open(sys.argv[1]))
centre, radius, name = np.asarray(spec["centre"], dtype=float), float(spec["radius"]), spec["name"]
os.makedirs(spec["output"], exist_ok=True)
datasets = read_series(spec["series"])


def plane_mask(ds, radius=radius):
    """The sphere on one image: voxel centres within the radius (rows, columns)."""
    iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
    ipp = np.asarray(ds.ImagePositionPatient, dtype=float)
    row_spacing, column_spacing = (float(v) for v in ds.PixelSpacing)
    j, i = np.mgrid[:int(ds.Rows), :int(ds.Columns)]
    points = ipp[None, None, :] + i[..., None] * column_spacing * iop[:3] + j[..., None] * row_spacing * iop[3:]
    return np.linalg.norm(points - centre, axis=-1) <= radius


masks = np.stack([plane_mask(ds) for ds in datasets])  # (slices, rows, columns) in position order

# DICOM SEG (binary, one segment), by highdicom.
description = hd.seg.SegmentDescription(
    segment_number=1, segment_label=name, segmented_property_category=codes.SCT.Tissue,
    segmented_property_type=codes.SCT.Tissue, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
seg = hd.seg.Segmentation(
    source_images=datasets, pixel_array=masks.astype(np.uint8), segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
    segment_descriptions=[description], series_instance_uid=hd.UID(), series_number=900,
    sop_instance_uid=hd.UID(), instance_number=1, manufacturer="Hounsfield tests", manufacturer_model_name="round trip",
    software_versions="1", device_serial_number="1")
seg.save_as(os.path.join(spec["output"], "sphere-seg.dcm"))

# RTSTRUCT, by rt-utils (its mask is (rows, columns, slices) in its own slice order).
rtstruct = RTStructBuilder.create_new(dicom_series_path=spec["series"])
rt_mask = np.stack([plane_mask(ds) for ds in rtstruct.series_data], axis=-1)
rtstruct.add_roi(mask=rt_mask, name=name)
rtstruct.save(os.path.join(spec["output"], "sphere-rtstruct.dcm"))

# The same sphere inside a BODY of twice its radius, as a planning structure set draws organs inside the body
# outline: two ROIs that overlap.
enclosed = RTStructBuilder.create_new(dicom_series_path=spec["series"])
enclosed.add_roi(mask=np.stack([plane_mask(ds) for ds in enclosed.series_data], axis=-1), name=name)
enclosed.add_roi(mask=np.stack([plane_mask(ds, 2 * radius) for ds in enclosed.series_data], axis=-1), name="BODY")
enclosed.save(os.path.join(spec["output"], "sphere-in-body-rtstruct.dcm"))

# NIfTI, by nibabel: the sphere on the CT grid, with the grid's affine in RAS.
first, ds1 = datasets[0], datasets[1] if len(datasets) > 1 else datasets[0]
iop = np.asarray(first.ImageOrientationPatient, dtype=float)
row_spacing, column_spacing = (float(v) for v in first.PixelSpacing)
step = np.asarray(ds1.ImagePositionPatient, dtype=float) - np.asarray(first.ImagePositionPatient, dtype=float)
lps = np.eye(4)
lps[:3, 0] = iop[:3] * column_spacing
lps[:3, 1] = iop[3:] * row_spacing
lps[:3, 2] = step if np.linalg.norm(step) > 0 else normal(first)
lps[:3, 3] = np.asarray(first.ImagePositionPatient, dtype=float)
ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
image = nib.Nifti1Image(masks.transpose(2, 1, 0).astype(np.uint8), ras)
image.set_qform(ras, code=1)
image.set_sform(ras, code=1)
nib.save(image, os.path.join(spec["output"], "sphere-label.nii.gz"))
print(json.dumps({"voxels": int(masks.sum())}))
