"""Runs Hounsfield and SimpleITK on the same inputs, in one run, and writes results.json and results.md.

Each measurement runs in its own process under /usr/bin/time for peak RSS; the times are taken inside the
process (discovery + decode, no interpreter or process start-up), several repeats, medians reported.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--work", default="/tmp/hounsfield-peers")
parser.add_argument("--quick", action="store_true", help="tiny inputs, one repeat: checks that everything runs")
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

root = args.root
hf_bench = os.path.join(root, "Benchmarks/.build/release/hf-bench")
hounsfield = os.path.join(root, ".build/release/hounsfield")
here = os.path.dirname(os.path.abspath(__file__))
results_dir = os.path.join(here, "results")
os.makedirs(results_dir, exist_ok=True)
size, slices = (64, 20) if args.quick else (512, 300)
many = (200, 400) if args.quick else (10_000, 20_000)
repeats = 1 if args.quick else args.repeats
work = args.work + ("-quick" if args.quick else "")


def run(command, label):
    """Runs a command under /usr/bin/time; returns (parsed JSON stdout, peak RSS in MB)."""
    timed = ["/usr/bin/time", "-f", "PEAK_KB %M"] + command
    print(f"  {label}: {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(timed, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{label} failed:\n{done.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return json.loads(done.stdout.strip().splitlines()[-1]), peak / 1024


def make(kind, folder, **options):
    if os.path.exists(folder + ".complete"):
        return folder
    extra = [f"--{k}={v}" for k, v in options.items()]
    print(f"making {folder}", file=sys.stderr, flush=True)
    subprocess.run([hf_bench, "make", "--output", folder, "--kind", kind] + extra, check=True)
    return folder


results = {
    "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    "versions": {},
    "inputs": {"size": size, "slices": slices, "many": list(many), "repeats": repeats},
    "decode": [],
    "discovery": [],
}
import SimpleITK  # noqa: E402  (the venv's)

results["versions"]["SimpleITK"] = SimpleITK.Version_VersionString()
results["versions"]["hounsfield"] = subprocess.run([hounsfield, "--version"], capture_output=True, text=True).stdout.strip()

for syntax in ["explicit", "jpeg-lossless"]:
    folder = make("series", f"{work}/series-{syntax}-{size}x{slices}", syntax=syntax, size=size, slices=slices)
    ours, our_peak = run([hf_bench, "decode", folder, "--repeats", str(repeats)], f"hounsfield decode {syntax}")
    theirs, their_peak = run([sys.executable, os.path.join(here, "sitk_read.py"), folder, str(repeats), "read"],
                             f"SimpleITK ReadImage {syntax}")
    inspected = json.loads(subprocess.run([hounsfield, "inspect", folder, "--stats", "--json"],
                                          capture_output=True, text=True, check=True).stdout)
    our_hash = inspected["series"][0]["hu"]["sha256"]
    results["decode"].append({
        "syntax": syntax, "voxels": ours["voxels"],
        "hounsfield": {"median_s": ours["median_s"], "times_s": ours["times_s"], "peak_rss_mb": our_peak},
        "simpleitk": {"median_s": theirs["median_s"], "times_s": theirs["times_s"], "peak_rss_mb": their_peak,
                      "threads": theirs.get("threads")},
        "ratio_simpleitk_over_hounsfield": theirs["median_s"] / ours["median_s"],
        "same_hu_sha256": our_hash == theirs["sha256"],
    })

# Transforms (issue 4): resampling the 512×512×300 explicit series to 1 mm, and intensity throughput.
results["resample"] = []
series_folder = f"{work}/series-explicit-{size}x{slices}"
for interpolation in ["linear", "nearest", "bspline"]:
    ours, our_peak = run([hf_bench, "resample", series_folder, "--interpolation", interpolation, "--repeats", str(repeats)],
                         f"hounsfield resample {interpolation}")
    theirs, their_peak = run([sys.executable, os.path.join(here, "sitk_resample_job.py"), series_folder, "1.0",
                              interpolation, str(repeats)], f"SimpleITK Resample {interpolation}")
    results["resample"].append({
        "interpolation": interpolation, "input_size": ours["input_size"], "output_size": ours["output_size"],
        "hounsfield": {"median_s": ours["median_s"], "times_s": ours["times_s"], "peak_rss_mb": our_peak},
        "simpleitk": {"median_s": theirs["median_s"], "times_s": theirs["times_s"], "peak_rss_mb": their_peak},
        "ratio_simpleitk_over_hounsfield": theirs["median_s"] / ours["median_s"],
    })
results["intensity"], _ = run([hf_bench, "intensity", series_folder, "--repeats", str(repeats)], "hounsfield intensity")

# Discovery: 10k and 20k runs interleaved (one scan each per round), so machine noise hits both alike.
folders = {count: make("many", f"{work}/many-{count}", files=count) for count in many}
rounds = {count: [] for count in many}
peaks = {count: 0.0 for count in many}
for round_index in range(max(repeats, 3) if not args.quick else 1):
    for count in many:
        measured, peak = run([hf_bench, "discover", folders[count], "--repeats", "1"], f"hounsfield discover {count}")
        rounds[count].append(measured)
        peaks[count] = max(peaks[count], peak)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


for count in many:
    times = [r["median_s"] for r in rounds[count]]
    entry = {"files": rounds[count][0]["files"], "series": rounds[count][0]["series"],
             "hounsfield": {"median_s": median(times), "times_s": times,
                            "files_per_s": rounds[count][0]["files"] / median(times), "peak_rss_mb": peaks[count],
                            "phases_s": [r["phases_s"][0] for r in rounds[count]]}}
    if count == many[0]:
        theirs, their_peak = run([sys.executable, os.path.join(here, "sitk_read.py"), folders[count], "1", "discover"],
                                 f"SimpleITK GetGDCMSeriesIDs + FileNames {count}")
        entry["simpleitk"] = {"median_s": theirs["median_s"], "files_per_s": theirs["files"] / theirs["median_s"],
                              "peak_rss_mb": their_peak}
        entry["ratio_simpleitk_over_hounsfield"] = theirs["median_s"] / entry["hounsfield"]["median_s"]
    results["discovery"].append(entry)
ratios = [b["median_s"] / a["median_s"] for a, b in zip(rounds[many[0]], rounds[many[1]])]
results["discovery_scaling_20k_over_10k"] = results["discovery"][1]["hounsfield"]["median_s"] / results["discovery"][0]["hounsfield"]["median_s"]
results["discovery_scaling_per_round"] = ratios

results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
with open(os.path.join(results_dir, "results.json"), "w") as file:
    json.dump(results, file, indent=2)

lines = [
    f"Machine: {results['machine']['cores']} cores, {results['machine']['platform']}; "
    f"SimpleITK {results['versions']['SimpleITK']}; {results['versions']['hounsfield']}; medians of {repeats} run(s).",
    "",
    "| job | Hounsfield | SimpleITK | SimpleITK / Hounsfield | peak RSS H / S (MB) | same HU hash |",
    "|---|---|---|---|---|---|",
]
for entry in results["decode"]:
    lines.append(
        f"| discover + decode {size}×{size}×{slices}, {entry['syntax']} | {entry['hounsfield']['median_s']:.3f} s | "
        f"{entry['simpleitk']['median_s']:.3f} s | **{entry['ratio_simpleitk_over_hounsfield']:.1f}×** | "
        f"{entry['hounsfield']['peak_rss_mb']:.0f} / {entry['simpleitk']['peak_rss_mb']:.0f} | "
        f"{'yes' if entry['same_hu_sha256'] else 'NO'} |")
for entry in results["discovery"]:
    sitk_part = (f"{entry['simpleitk']['median_s']:.2f} s | **{entry['ratio_simpleitk_over_hounsfield']:.1f}×** | "
                 f"{entry['hounsfield']['peak_rss_mb']:.0f} / {entry['simpleitk']['peak_rss_mb']:.0f}"
                 if "simpleitk" in entry else f"— | — | {entry['hounsfield']['peak_rss_mb']:.0f} / —")
    lines.append(f"| discovery, {entry['files']} files ({entry['hounsfield']['files_per_s']:.0f} files/s) | "
                 f"{entry['hounsfield']['median_s']:.2f} s | {sitk_part} | — |")
for entry in results["resample"]:
    lines.append(
        f"| resample {'×'.join(map(str, entry['input_size']))} → 1 mm ({'×'.join(map(str, entry['output_size']))}), "
        f"{entry['interpolation']} | {entry['hounsfield']['median_s']:.3f} s | {entry['simpleitk']['median_s']:.3f} s | "
        f"**{entry['ratio_simpleitk_over_hounsfield']:.1f}×** | {entry['hounsfield']['peak_rss_mb']:.0f} / "
        f"{entry['simpleitk']['peak_rss_mb']:.0f} | — |")
intensity = results["intensity"]
lines += ["", f"Intensity throughput on {intensity['voxels'] / 1e6:.0f} M voxels: window {intensity['window_voxels_per_s'] / 1e9:.2f} G voxels/s, "
              f"z-score {intensity['zscore_voxels_per_s'] / 1e9:.2f} G voxels/s; the floor, a plain copy of the same buffer: "
              f"{intensity['copy_voxels_per_s'] / 1e9:.2f} G voxels/s."]
if "discovery_scaling_20k_over_10k" in results:
    per_round = ", ".join(f"{r:.2f}" for r in results["discovery_scaling_per_round"])
    lines += ["", f"Discovery time at {many[1]} files / at {many[0]} files: "
                  f"**{results['discovery_scaling_20k_over_10k']:.2f}** (linear = 2.0; ratio of medians of "
                  f"interleaved runs; per round: {per_round})."]
table = "\n".join(lines) + "\n"
with open(os.path.join(results_dir, "results.md"), "w") as file:
    file.write(table)
print(table)
