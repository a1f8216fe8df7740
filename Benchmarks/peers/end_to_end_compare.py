"""The end-to-end sections of compare.py (issue 6): one 512×512×300 series through the whole job, a batch of series
against a SimpleITK process pool, per-study in-memory latency, and peak memory at 24, 96 and 384 series.

Hounsfield runs as `hounsfield run` (process wall time, start-up and report included: the conservative side); the
peers time inside their process after imports. The job is written once, as a configuration file both Hounsfield
commands read, and as the peers' code in end_to_end.py.
"""
import json
import os
import shutil
import subprocess
import sys

from common import last_json, measured, median

JOB = {
    "preprocessing": {"window": [-1000, 1000], "spacing": [1, 1, 1], "interpolation": "linear", "normalize": "minmax"},
    "output": {"dtype": "float32", "compression": "gzip:1", "chunks": "slabs"},
    "privacy": {"salt": "benchmark"},
}



def hounsfield_image(folder):
    """The one volume of a Hounsfield output folder, read with h5py."""
    import h5py
    import numpy as np
    entry = json.loads(open(os.path.join(folder, "manifest.jsonl")).readline())
    with h5py.File(os.path.join(folder, entry["shard"]), "r") as f:
        return np.asarray(f[entry["path"]][...])


def peer_image(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        return np.asarray(f["image"][...])


def stage_seconds(folder):
    """The stage timings of the one series in a Hounsfield output folder's report.json."""
    report = json.load(open(os.path.join(folder, "report.json")))
    return {"total": report["seconds"], **report["series"][0]["seconds"]}


def agreement(ours, theirs):
    import numpy as np
    if ours.shape != theirs.shape:
        return {"same_shape": False, "shapes": [list(ours.shape), list(theirs.shape)]}
    difference = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    return {"same_shape": True, "max_abs": float(difference.max()), "mean_abs": float(difference.mean())}


def measure(context, sections):
    """Runs the requested end-to-end sections; returns the results to merge into results.json."""
    hounsfield, hf_bench, here = context["hounsfield"], context["hf_bench"], context["here"]
    work, repeats, quick, gnu_time = context["work"], context["repeats"], context["quick"], context["gnu_time"]
    series_folder, make = context["series_folder"], context["make"]
    size, slices = context["size"], context["slices"]
    peers = [sys.executable, os.path.join(here, "end_to_end.py")]
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "job.json")
    with open(config, "w") as file:
        json.dump(JOB, file)
    results = {}

    def hounsfield_run(inputs, output, label, extra=()):
        shutil.rmtree(output, ignore_errors=True)
        return measured([hounsfield, "run", inputs, "--output", output, "--config", config, *extra], label, gnu_time)

    def one_series(syntax, folder, peer_input=None, floors=True):
        """`folder` is what Hounsfield reads; `peer_input` what the peers read (the folder, or a NIfTI file)."""
        peer_input = peer_input or folder
        out = os.path.join(work, "e2e", syntax)
        os.makedirs(out, exist_ok=True)
        ours, our_peak, stages = [], 0.0, []
        sitk_runs, monai_runs = [], []
        # The tools take turns, round after round, so machine noise hits them alike.
        for _ in range(repeats):
            seconds, peak, _ = hounsfield_run(folder, os.path.join(out, "hounsfield"), f"hounsfield run {syntax}")
            ours.append(seconds)
            our_peak = max(our_peak, peak)
            stages.append(stage_seconds(os.path.join(out, "hounsfield")))
            _, peak, stdout = measured(peers + ["sitk", peer_input, "--output", os.path.join(out, "sitk.h5"),
                                             "--repeats", "1"], f"SimpleITK + h5py {syntax}", gnu_time)
            sitk_runs.append((last_json(stdout), peak))
            if context["monai"]:
                _, peak, stdout = measured(peers + ["monai", peer_input, "--output", os.path.join(out, "monai.h5"),
                                                 "--repeats", "1"], f"MONAI + h5py {syntax}", gnu_time)
                monai_runs.append((last_json(stdout), peak))
        ours_image = hounsfield_image(os.path.join(out, "hounsfield"))
        shard = os.path.join(out, "hounsfield", json.loads(
            open(os.path.join(out, "hounsfield", "manifest.jsonl")).readline())["shard"])
        entry = {"syntax": syntax, "input": f"{size}×{size}×{slices}", "output_shape": list(ours_image.shape),
                 "hounsfield": {"median_s": median(ours), "times_s": ours, "peak_rss_mb": our_peak,
                                "stages_s": {name: median([s[name] for s in stages]) for name in stages[0]}}}
        if floors:
            _, _, stdout = measured([sys.executable, os.path.join(here, "floors.py"), folder, shard,
                                     "--voxels", str(ours_image.size), "--repeats", str(repeats)],
                                    f"floors {syntax}", gnu_time)
            entry["floors"] = last_json(stdout)
        for name, runs, path in [("simpleitk", sitk_runs, "sitk.h5"), ("monai", monai_runs, "monai.h5")]:
            if not runs:
                continue
            # Each peer process runs the job twice; the second (warm, like ours after the first round) is timed.
            times = [r["median_s"] for r, _ in runs]
            entry[name] = {"median_s": median(times), "times_s": times, "first_s": [r["first_s"] for r, _ in runs],
                           "peak_rss_mb": max(p for _, p in runs), "shape": runs[0][0]["shape"],
                           "versions": runs[0][0]["versions"],
                           "agreement": agreement(ours_image, peer_image(os.path.join(out, path))),
                           "ratio_over_hounsfield": median(times) / median(ours)}
        return entry

    if "pipeline" in sections:
        jpeg_folder = make("series", f"{work}/series-jpeg-lossless-{size}x{slices}", syntax="jpeg-lossless",
                           size=size, slices=slices)
        results["pipeline"] = [one_series("explicit", series_folder), one_series("jpeg-lossless", jpeg_folder)]

    if "nifti" in sections:
        # The same CT as users receive it converted: dcm2niix's int16 .nii.gz (gzip), read by Hounsfield from its
        # folder and by the peers from the file (SimpleITK's ReadImage, MONAI's ITKReader).
        nifti_folder = os.path.join(work, f"nifti-{size}x{slices}")
        nifti_file = os.path.join(nifti_folder, "ct.nii.gz")
        if not os.path.exists(nifti_file):
            os.makedirs(nifti_folder, exist_ok=True)
            dcm2niix = os.path.join(os.path.dirname(sys.executable), "dcm2niix")
            subprocess.run([dcm2niix, "-z", "y", "-b", "n", "-f", "ct", "-o", nifti_folder, series_folder],
                           check=True, capture_output=True)
        results["nifti"] = one_series("nifti", nifti_folder, peer_input=nifti_file, floors=False)

    if "latency" in sections:
        ours, our_peak, stdout = measured([hf_bench, "latency", series_folder, "--config", config,
                                        "--repeats", str(max(repeats, 5))], "hounsfield per-study latency", gnu_time)
        entry = {"hounsfield": {**last_json(stdout), "peak_rss_mb": our_peak}}
        _, peak, stdout = measured(peers + ["sitk", series_folder, "--in-memory", "--repeats", str(max(repeats, 5))],
                                "SimpleITK per-study latency", gnu_time)
        entry["simpleitk"] = {**last_json(stdout), "peak_rss_mb": peak}
        if context["monai"]:
            _, peak, stdout = measured(peers + ["monai", series_folder, "--in-memory", "--repeats", str(max(repeats, 5))],
                                    "MONAI per-study latency", gnu_time)
            entry["monai"] = {**last_json(stdout), "peak_rss_mb": peak}
        for name in ["simpleitk", "monai"]:
            if name in entry:
                entry[name]["ratio_over_hounsfield"] = entry[name]["median_s"] / entry["hounsfield"]["median_s"]
        results["latency"] = entry

    batch_count, batch_slices = (4, 20) if quick else (24, 80)
    if "batch" in sections:
        batch = make("batch", f"{work}/batch-{batch_count}-{size}x{batch_slices}", count=batch_count, size=size,
                     slices=batch_slices)
        out = os.path.join(work, "batch-out")
        entry = {"series": batch_count, "input": f"{size}×{size}×{batch_slices}", "rounds": repeats}
        runs = {"hounsfield": [], "hounsfield_jobs2": [], "simpleitk_pool2": []}
        peaks = {name: 0.0 for name in runs}
        for _ in range(repeats):
            for name, extra in [("hounsfield", ()), ("hounsfield_jobs2", ("--jobs", "2"))]:
                seconds, peak, _ = hounsfield_run(batch, os.path.join(out, name), f"hounsfield run {' '.join(extra)}",
                                                  extra)
                runs[name].append(seconds)
                peaks[name] = max(peaks[name], peak)
            shutil.rmtree(os.path.join(out, "sitk"), ignore_errors=True)
            _, peak, stdout = measured(peers + ["sitk-pool", batch, "--output", os.path.join(out, "sitk"),
                                             "--processes", "2"], "SimpleITK, 2-process pool", gnu_time)
            runs["simpleitk_pool2"].append(last_json(stdout)["seconds"])
            peaks["simpleitk_pool2"] = max(peaks["simpleitk_pool2"], peak)
        for name, times in runs.items():
            entry[name] = {"median_s": median(times), "times_s": times, "series_per_s": batch_count / median(times),
                           "peak_rss_mb": peaks[name]}
        best = min(entry["hounsfield"]["median_s"], entry["hounsfield_jobs2"]["median_s"])
        entry["ratio_simpleitk_pool_over_hounsfield"] = entry["simpleitk_pool2"]["median_s"] / entry["hounsfield"]["median_s"]
        entry["ratio_simpleitk_pool_over_hounsfield_best"] = entry["simpleitk_pool2"]["median_s"] / best
        results["batch"] = entry

    if "memory" in sections:
        # Bounded memory: the same job over 24, 96 and 384 series; peak RSS should not grow with the count (the
        # goal: every median within 10% of the others). The counts are the first N series of one batch, given as N
        # inputs, so every run discovers its series the same way. A peak is the maximum of one run and moves with
        # what is in flight at the worst moment: each count runs `repeats` times, in turns, and the medians are
        # compared. While each run goes, its VmRSS is sampled every 0.5 s, to tell steady growth from steps.
        counts = (4, 16, 64) if quick else (24, 96, 384)
        batch = make("batch", f"{work}/batch-{counts[-1]}-{size}x{batch_slices}", count=counts[-1], size=size,
                     slices=batch_slices)
        folders = sorted((name for name in os.listdir(batch) if name.startswith("series-")),
                         key=lambda name: int(name.split("-")[1]))
        runs = {count: [] for count in counts}
        for _ in range(repeats):
            for count in counts:
                output = os.path.join(work, "memory-out")
                shutil.rmtree(output, ignore_errors=True)
                command = [hounsfield, "run", *(os.path.join(batch, f) for f in folders[:count]), "--output", output,
                           "--config", config]
                seconds, peak, samples = sampled(command, f"hounsfield run ({count} series)", gnu_time)
                runs[count].append((seconds, peak, samples))
        entry = {"input": f"{size}×{size}×{batch_slices}", "counts": list(counts)}
        for count in counts:
            peaks = [peak for _, peak, _ in runs[count]]
            entry[str(count)] = {"seconds": median([s for s, _, _ in runs[count]]), "peak_rss_mb": median(peaks),
                                 "peaks_rss_mb": peaks, "rss_mb_by_tenth": [tenths(samples) for _, _, samples in runs[count]]}
        smallest = entry[str(counts[0])]["peak_rss_mb"]
        entry["peak_ratios"] = {str(c): entry[str(c)]["peak_rss_mb"] / smallest for c in counts[1:]}
        medians = [entry[str(c)]["peak_rss_mb"] for c in counts]
        entry["peak_spread"] = max(medians) / min(medians)
        entry["peak_ratio"] = entry["peak_ratios"][str(counts[1])]  # the earlier single ratio (96 over 24)
        shutil.rmtree(os.path.join(work, "memory-out"), ignore_errors=True)
        results["memory"] = entry
    return results


def sampled(command, label, gnu_time):
    """`measured`, and the command's resident size every 0.5 s (from /proc, Linux only; empty elsewhere).
    Returns (seconds, peak RSS in MB, [(seconds since start, RSS MB)])."""
    import threading
    import time
    samples, done = [], threading.Event()

    def sample():
        start = time.perf_counter()
        pid = None
        while not done.wait(0.5):
            pid = pid or child_of_time(command)
            try:
                with open(f"/proc/{pid}/status") as status:
                    kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
                samples.append((time.perf_counter() - start, kb / 1024))
            except (OSError, StopIteration, TypeError):
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        seconds, peak, _ = measured(command, label, gnu_time)
    finally:
        done.set()
        sampler.join()
    return seconds, peak, samples


def child_of_time(command):
    """The pid of the running process whose command line is `command` (under /usr/bin/time or not), or None."""
    wanted = "\0".join(command)
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    if file.read().decode(errors="replace").rstrip("\0") == wanted:
                        return int(entry)
            except OSError:
                pass
    return None


def tenths(samples):
    """The highest sampled RSS (MB) in each tenth of a run (None where no sample fell): flat, a steady climb, or
    steps."""
    if not samples:
        return []
    end = samples[-1][0] or 1
    bins = [None] * 10
    for at, mb in samples:
        index = min(9, int(10 * at / end))
        bins[index] = max(bins[index] or 0, mb)
    return [None if mb is None else round(mb) for mb in bins]


def table(results):
    """Markdown lines for the end-to-end sections present in results."""
    lines = []
    for p in results.get("pipeline", []) + ([results["nifti"]] if "nifti" in results else []):
        lines += ["", f"End to end, one {p['input']} {p['syntax']} series → clip [-1000, 1000] → 1 mm linear → [0, 1] → "
                      f"float32 HDF5 gzip 1 + shuffle ({'×'.join(map(str, p['output_shape']))}); Hounsfield is the "
                      "`hounsfield run` process (start-up, report and manifest included), the peers are timed inside "
                      "Python:", "",
                  "| tool | median | peak RSS MB | ratio to Hounsfield | output agrees with Hounsfield |", "|---|---|---|---|---|",
                  f"| Hounsfield `run` | {p['hounsfield']['median_s']:.2f} s | {p['hounsfield']['peak_rss_mb']:.0f} | 1 | — |"]
        for name, label in [("simpleitk", "SimpleITK + h5py"), ("monai", "MONAI + h5py")]:
            if name in p:
                e, a = p[name], p[name]["agreement"]
                agrees = (f"max |Δ| {a['max_abs']:.2g}, mean {a['mean_abs']:.2g}" if a["same_shape"]
                          else f"other grid {'×'.join(map(str, a['shapes'][1]))}")
                lines.append(f"| {label} | {e['median_s']:.2f} s | {e['peak_rss_mb']:.0f} | "
                             f"**{e['ratio_over_hounsfield']:.1f}×** | {agrees} |")
        if "floors" in p and "stages_s" in p["hounsfield"]:
            st, fl = p["hounsfield"]["stages_s"], p["floors"]
            # A series whose chain reads planes is decoded inside the transform stage (`decode_and_transform`).
            streamed = "decode_and_transform" in st
            first = st["decode_and_transform"] if streamed else st["decode"] + st["transform"]
            rest = p["hounsfield"]["median_s"] - first - st["write"]
            read_floor = f"reading the {fl['input_bytes'] / 1e6:.0f} MB of input files from page cache"
            copy_floor = f"one memory copy of the {fl['output_bytes'] / 1e6:.0f} MB output"
            lines += ["", f"Where Hounsfield's time goes ({p['syntax']}; medians of the stage times in `report.json`) "
                          "against the physical floor of each stage on this machine (`peers/floors.py`):", "",
                      "| stage | Hounsfield | floor | floor measured as |", "|---|---|---|---|"]
            if streamed:
                lines.append(f"| decode and transform, in one pass (clip, resample, scale) | {first:.3f} s | "
                             f"{fl['read_s'] + fl['copy_s']:.3f} s | {read_floor}, then {copy_floor} |")
            else:
                lines += [f"| decode | {st['decode']:.3f} s | {fl['read_s']:.3f} s | {read_floor} |",
                          f"| transform (clip, resample, scale) | {st['transform']:.3f} s | {fl['copy_s']:.3f} s | "
                          f"{copy_floor} |"]
            lines += [f"| write (compress, HDF5, fsync) | {st['write']:.3f} s | {fl['disk_s']:.3f} s | writing and "
                      f"fsyncing the {fl['stored_bytes'] / 1e6:.0f} MB shard (compression not included) |",
                      f"| the rest (start-up, scan, publish, report) | {rest:.3f} s | — | |"]
    if "batch" in results:
        b = results["batch"]
        lines += ["", f"Batch of {b['series']} series of {b['input']}, the same job, medians of {b['rounds']} round(s):", "",
                  "| tool | median | series/s | peak RSS MB |", "|---|---|---|---|"]
        for name, label in [("hounsfield", "Hounsfield `run` (jobs 1)"), ("hounsfield_jobs2", "Hounsfield `run --jobs 2`"),
                            ("simpleitk_pool2", "SimpleITK + h5py, 2-process pool")]:
            e = b[name]
            lines.append(f"| {label} | {e['median_s']:.1f} s | {e['series_per_s']:.2f} | {e['peak_rss_mb']:.0f} |")
        lines += ["", f"SimpleITK pool / Hounsfield: **{b['ratio_simpleitk_pool_over_hounsfield']:.1f}×** "
                      f"(best Hounsfield setting: {b['ratio_simpleitk_pool_over_hounsfield_best']:.1f}×)."]
    if "latency" in results:
        lat = results["latency"]
        lines += ["", "Per-study latency, in memory (find the series in the folder, decode, transform; no HDF5):", "",
                  "| tool | first call | median after | ratio |", "|---|---|---|---|"]
        for name, label in [("hounsfield", "Hounsfield `Preprocessor`"), ("simpleitk", "SimpleITK"), ("monai", "MONAI")]:
            if name in lat:
                e = lat[name]
                ratio = "1" if name == "hounsfield" else f"**{e['ratio_over_hounsfield']:.1f}×**"
                lines.append(f"| {label} | {e['first_s']:.3f} s | {e['median_s']:.3f} s | {ratio} |")
    if "memory" in results:
        m = results["memory"]
        counts = [k for k in m if k.isdigit()]
        def peaks(c):  # results written before the repeats have one peak only
            every = m[c].get("peaks_rss_mb", [m[c]["peak_rss_mb"]])
            return "" if len(every) < 2 else f", runs {', '.join(f'{p:.0f}' for p in every)}"
        lines += ["", "Peak RSS of `hounsfield run` (median of the runs) over " + ", ".join(
            f"{c} series: {m[c]['peak_rss_mb']:.0f} MB ({m[c]['seconds']:.0f} s{peaks(c)})" for c in counts) + "."]
        if "peak_ratios" in m:
            lines.append("Ratios to " + counts[0] + " series: " + ", ".join(
                f"{c}: **{r:.2f}**" for c, r in m["peak_ratios"].items()) +
                f"; largest over smallest median **{m['peak_spread']:.2f}** (goal: at most 1.10).")
            for c in counts:
                for tenth in m[c].get("rss_mb_by_tenth", [])[:1]:
                    if tenth:
                        lines.append(f"RSS by tenth of the run, {c} series (MB): "
                                     f"{' '.join('–' if mb is None else str(mb) for mb in tenth)}.")
        else:
            lines.append(f"Ratio **{m['peak_ratio']:.2f}**.")
    return lines
