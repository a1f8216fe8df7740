"""A LABELMAP DICOM SEG with more segments than a byte holds, written by highdicom in a given transfer syntax, and
the label array it was made from, for the round-trip test of 16-bit and compressed SEGs.
Usage: make_labelmap_seg.py spec.json (fields: series (folder of the CT files), output (the SEG file), array (raw
little-endian uint16, slices in position order, rows, columns), segments (count), transfer_syntax (UID))."""
import json
import sys

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes

from ct_series import read_series

spec = json.load(open(sys.argv[1]))
count = int(spec["segments"])
datasets = read_series(spec["series"])
slices, rows, columns = len(datasets), int(datasets[0].Rows), int(datasets[0].Columns)
# Every segment number appears: runs of voxels along each row, numbered 1…count in turn, with background between.
index = np.arange(slices * rows * columns).reshape(slices, rows, columns)
labels = np.where(index % 5 == 0, 0, 1 + (index // 5) % count).astype(np.uint16)
descriptions = [
    hd.seg.SegmentDescription(
        segment_number=number, segment_label="region %d" % number, segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Tissue, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    for number in range(1, count + 1)
]
seg = hd.seg.Segmentation(
    source_images=datasets, pixel_array=labels, segmentation_type=hd.seg.SegmentationTypeValues.LABELMAP,
    segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=901, sop_instance_uid=hd.UID(),
    instance_number=1, manufacturer="Hounsfield tests", manufacturer_model_name="labelmap round trip",
    software_versions="1", device_serial_number="1", transfer_syntax_uid=spec["transfer_syntax"])
seg.save_as(spec["output"])
labels.astype("<u2").tofile(spec["array"])
print(json.dumps({"bits_allocated": int(seg.BitsAllocated), "transfer_syntax": str(seg.file_meta.TransferSyntaxUID)}))
