"""The peers' side of the end-to-end benchmarks (issue 6): the job `hounsfield run` does, written the way each
tool's users write it. Prints one JSON line.

The job: decode the series → clip to [-1000, 1000] HU → resample to 1 mm, linear → map [-1000, 1000] onto [0, 1]
→ float32 HDF5, gzip 1 + shuffle, chunks of whole slices (the same chunk shape Hounsfield picks), fsynced.

    python end_to_end.py sitk FOLDER --output FILE.h5 [--repeats N]      SimpleITK + h5py
    python end_to_end.py monai FOLDER --output FILE.h5 [--repeats N]     MONAI LoadImage + Spacing + ScaleIntensityRange
    python end_to_end.py sitk FOLDER --in-memory [--repeats N]           the same without HDF5 (per-study latency)
    python end_to_end.py sitk-pool ROOT --output DIR --processes 2       every series folder under ROOT, a process pool

Times are taken inside the process, after the imports (MONAI's import of torch alone takes seconds): the first
call is reported apart as `first_s`, and `median_s` is over the calls after it.
"""
import argparse
import json
import multiprocessing
import os
import sys
import time

import h5py
import numpy as np

from common import median

LOW, HIGH, SPACING = -1000.0, 1000.0, 1.0
SLAB_BYTES = 4 << 20  # Hounsfield's automatic slab: whole slices, about 4 MiB



def write_hdf5(path, array, spacing, origin, direction):
    """float32, C order (z, y, x), gzip 1 + shuffle, slabs of whole slices, geometry as attributes, fsynced."""
    plane = array.shape[1] * array.shape[2] * 4
    chunks = (max(1, min(array.shape[0], SLAB_BYTES // plane)), array.shape[1], array.shape[2])
    with h5py.File(path, "w") as f:
        dataset = f.create_dataset("image", data=array, chunks=chunks, compression="gzip", compression_opts=1,
                                   shuffle=True)
        dataset.attrs["spacing"] = spacing
        dataset.attrs["origin"] = origin
        dataset.attrs["direction"] = direction
        f.flush()
        os.fsync(f.id.get_vfd_handle())


def simpleitk(folder):
    """SimpleITK as its users write it: ImageSeriesReader (ReadImage for a NIfTI file), Clamp, Resample onto the same origin and direction with
    size = round(size × spacing / 1 mm), ShiftScale, GetArrayFromImage."""
    import SimpleITK as sitk
    if os.path.isfile(folder):  # a NIfTI file (the `nifti` section)
        image = sitk.ReadImage(folder, sitk.sitkFloat32)
    else:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        image = sitk.Cast(reader.Execute(), sitk.sitkFloat32)
    image = sitk.Clamp(image, sitk.sitkFloat32, LOW, HIGH)
    size = [int(round(n * s / SPACING)) for n, s in zip(image.GetSize(), image.GetSpacing())]
    image = sitk.Resample(image, size, sitk.Transform(), sitk.sitkLinear, image.GetOrigin(), [SPACING] * 3,
                          image.GetDirection(), LOW, sitk.sitkFloat32)
    image = sitk.ShiftScale(image, -LOW, 1.0 / (HIGH - LOW))
    return (sitk.GetArrayFromImage(image), list(image.GetSpacing()), list(image.GetOrigin()),
            list(image.GetDirection()))


_monai_pipeline = None


def monai(folder):
    """MONAI as its tutorials write it: LoadImage (ITKReader for a DICOM folder), EnsureChannelFirst,
    ScaleIntensityRange with clip (clip and map in one), Spacing to 1 mm bilinear."""
    global _monai_pipeline
    from monai.transforms import Compose, EnsureChannelFirst, LoadImage, ScaleIntensityRange, Spacing
    if _monai_pipeline is None:
        _monai_pipeline = Compose([
            LoadImage(image_only=True, reader="ITKReader"),
            EnsureChannelFirst(),
            ScaleIntensityRange(a_min=LOW, a_max=HIGH, b_min=0.0, b_max=1.0, clip=True),
            Spacing(pixdim=(SPACING, SPACING, SPACING), mode="bilinear"),
        ])
    tensor = _monai_pipeline(folder)
    # MONAI's arrays are (channel, x, y, z) with a RAS affine; the shard layout is (z, y, x).
    array = np.ascontiguousarray(tensor[0].numpy().transpose(2, 1, 0), dtype=np.float32)
    affine = np.asarray(tensor.affine, dtype=np.float64)
    spacing = list(np.linalg.norm(affine[:3, :3], axis=0))
    return array, spacing, list(affine[:3, 3]), list((affine[:3, :3] / spacing).ravel())


TOOLS = {"sitk": simpleitk, "monai": monai}


def one_series(tool, folder, output, in_memory):
    array, spacing, origin, direction = TOOLS[tool](folder)
    if not in_memory:
        write_hdf5(output, array, spacing, origin, direction)
    return list(array.shape)


def pool_job(arguments):
    folder, output = arguments
    return one_series("sitk", folder, output, False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tool", choices=["sitk", "monai", "sitk-pool"])
    parser.add_argument("folder")
    parser.add_argument("--output")
    parser.add_argument("--in-memory", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="SimpleITK threads per process (0: its default)")
    args = parser.parse_args()
    import SimpleITK as sitk
    if args.threads:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(args.threads)
    versions = {"SimpleITK": sitk.Version_VersionString(), "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version}
    if args.tool == "monai":
        import monai as monai_package
        import torch
        versions.update({"monai": monai_package.__version__, "torch": torch.__version__})

    if args.tool == "sitk-pool":
        folders = sorted(os.path.join(args.folder, name) for name in os.listdir(args.folder)
                         if os.path.isdir(os.path.join(args.folder, name)))
        os.makedirs(args.output, exist_ok=True)
        jobs = [(folder, os.path.join(args.output, os.path.basename(folder) + ".h5")) for folder in folders]
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(args.processes) as pool:
            shapes = pool.map(pool_job, jobs, chunksize=1)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "series": len(jobs), "series_per_s": len(jobs) / seconds,
                          "processes": args.processes, "shapes": shapes[:1], "versions": versions,
                          "sitk_threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}))
        return

    times, shape = [], None
    for _ in range(args.repeats + 1):
        start = time.perf_counter()
        shape = one_series(args.tool, args.folder, args.output, args.in_memory)
        times.append(time.perf_counter() - start)
    print(json.dumps({"first_s": times[0], "times_s": times[1:], "median_s": median(times[1:]), "shape": shape,
                      "versions": versions, "sitk_threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads(),
                      "torch_threads": sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None}))


if __name__ == "__main__":
    main()
