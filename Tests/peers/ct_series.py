"""The CT files of a folder as the label-making peer scripts need them: every file read by pydicom, in position order
along the slice normal (what SEG frames and label arrays are laid out by)."""
import os

import numpy as np
import pydicom


def normal(ds):
    """The slice normal of an image (row × column direction)."""
    iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
    return np.cross(iop[:3], iop[3:])


def read_series(folder):
    """Every file in `folder`, read, sorted by position along the slice normal."""
    datasets = [pydicom.dcmread(os.path.join(folder, name)) for name in sorted(os.listdir(folder))]
    datasets.sort(key=lambda ds: float(np.dot(normal(ds), np.asarray(ds.ImagePositionPatient, dtype=float))))
    return datasets
