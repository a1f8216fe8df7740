"""Runs Hounsfield and SimpleITK on the same inputs, in one run, and writes results.json and results.md.

Each measurement runs in its own process; peak RSS comes from `/usr/bin/time -v` when it is installed, else from
the rusage of that one child (os.wait4). The times are taken inside the process (discovery + decode, no interpreter
or process start-up), several repeats, medians reported.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import common
from common import last_json, median

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--work", default=os.environ.get("HOUNSFIELD_PEERS_WORK", "/tmp/hounsfield-peers"),
                    help="where the inputs are written and reused (default /tmp/hounsfield-peers; --quick adds -quick)")
parser.add_argument("--quick", action="store_true", help="tiny inputs, one repeat: checks that everything runs")
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--skip-transforms", action="store_true", help="decode and discovery only")
parser.add_argument("--only", default="decode,transforms,discovery,shards,pipeline,latency,batch",
                    help="comma-separated sections to run: decode, transforms, discovery, shards, pipeline, nifti, "
                         "latency, batch, memory (default: all but memory and nifti)")
parser.add_argument("--no-monai", action="store_true", help="leave MONAI out of the end-to-end sections")
args = parser.parse_args()
sections = set(args.only.split(","))
if args.skip_transforms:
    sections.discard("transforms")

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
gnu_time = shutil.which("time", path="/usr/bin")
rss_source = "/usr/bin/time -v" if gnu_time else "os.wait4 rusage"


def run(command, label):
    """Runs a command in its own process; returns (parsed last JSON line of stdout, peak RSS in MB)."""
    _, peak, stdout = common.measured(command, label, gnu_time)
    return last_json(stdout), peak


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
    "load_average_at_start": os.getloadavg(),
    "decode": [],
    "discovery": [],
}
import SimpleITK  # noqa: E402  (the venv's)

results["versions"]["SimpleITK"] = SimpleITK.Version_VersionString()
results["versions"]["hounsfield"] = subprocess.run([hounsfield, "--version"], capture_output=True, text=True).stdout.strip()

# Decode: the tools take turns, round after round (machine noise on this small shared machine then hits all of them
# alike); in each round every tool runs in a fresh process that decodes twice, and the second, warm decode is the
# one timed (the first, with the process's one-time start-up, is kept as first_s).
sitk_modes = {"series-reader": "SimpleITK ImageSeriesReader", "read": "SimpleITK ReadImage(list of files)"}
per_process = 1 if args.quick else 2



for syntax in ["explicit", "jpeg-lossless"] if "decode" in sections else []:
    folder = make("series", f"{work}/series-{syntax}-{size}x{slices}", syntax=syntax, size=size, slices=slices)
    inspected = json.loads(subprocess.run([hounsfield, "inspect", folder, "--stats", "--json"],
                                          capture_output=True, text=True, check=True).stdout)
    our_hash = inspected["series"][0]["hu"]["sha256"]
    commands = {"hounsfield": ([hf_bench, "decode", folder, "--repeat", str(per_process)], f"hounsfield decode {syntax}")}
    for mode, label in sitk_modes.items():
        commands["simpleitk_" + mode.replace("-", "_")] = (
            [sys.executable, os.path.join(here, "sitk_read.py"), folder, str(per_process), mode], f"{label} {syntax}")
    # More peers (issue 7), and the floor: reading the same files' bytes from page cache.
    for mode in ["pydicom", "torchio", "dcm2niix", "page-cache"]:
        commands[mode.replace("-", "_")] = ([sys.executable, os.path.join(here, "decode_peers.py"), folder,
                                             str(per_process), mode], f"{mode} {syntax}")
    runs = {tool: [] for tool in commands}
    for _ in range(repeats):
        for tool, (command, label) in commands.items():
            runs[tool].append(run(command, label))
    entry = {"syntax": syntax, "folder": folder, "voxels": runs["hounsfield"][0][0]["voxels"],
             "rounds": repeats, "decodes_per_process": per_process}
    for tool, measured in runs.items():
        times = [output["times_s"][-1] for output, _ in measured]
        entry[tool] = {"median_s": median(times), "times_s": times,
                       "first_s": [output["times_s"][0] for output, _ in measured],
                       "peak_rss_mb": max(peak for _, peak in measured)}
        last = measured[-1][0]
        if tool == "hounsfield":
            entry[tool]["hu_sha256"] = our_hash
        elif tool != "page_cache":
            entry[tool].update({"threads": last.get("threads"), "pixel_type": last.get("pixel_type"),
                                "hu_sha256": last.get("sha256"), "hu_sum": last.get("hu_sum"),
                                "same_hu_sha256": last.get("sha256") == our_hash if "sha256" in last else None})
    for tool in runs:
        if tool != "hounsfield":
            entry[tool]["ratio_over_hounsfield"] = entry[tool]["median_s"] / entry["hounsfield"]["median_s"]
    # The headline: ImageSeriesReader on the folder, as SimpleITK's users read a series.
    entry["simpleitk"] = entry["simpleitk_series_reader"]
    entry["ratio_simpleitk_over_hounsfield"] = entry["simpleitk"]["ratio_over_hounsfield"]
    entry["same_hu_sha256"] = all(entry["simpleitk_" + m.replace("-", "_")]["same_hu_sha256"] for m in sitk_modes)
    # dcm2niix's NIfTI reorders rows, so its check is the sum of every HU value against SimpleITK's.
    for tool in ["pydicom", "torchio", "dcm2niix"]:
        entry[tool]["same_hu_sum"] = entry[tool]["hu_sum"] == entry["simpleitk"]["hu_sum"]
    results["decode"].append(entry)

# Transforms (issue 4): resampling the 512×512×300 explicit series to 1 mm, and intensity throughput.
results["resample"] = []
series_folder = f"{work}/series-explicit-{size}x{slices}"
if sections & {"transforms", "shards", "pipeline", "nifti", "latency"}:
    make("series", series_folder, syntax="explicit", size=size, slices=slices)
for interpolation in ["linear", "nearest", "bspline"] if "transforms" in sections else []:
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
if "transforms" in sections:
    results["intensity"], _ = run([hf_bench, "intensity", series_folder, "--repeats", str(repeats)],
                                  "hounsfield intensity")

# Shards (issue 5): the 1 mm Float32 volume written by Hounsfield and by h5py with the same chunks and filters,
# then read back whole and as random patches.
if "shards" in sections:
    shard_work = f"{work}/shards"
    ours, our_peak = run([hf_bench, "shards", series_folder, "--work", shard_work, "--repeats", str(repeats)],
                         "hounsfield shard write/read")
    theirs, their_peak = run([sys.executable, os.path.join(here, "h5py_shards.py"), shard_work, str(repeats),
                              ours["reads"][0]["shard"]], "h5py write/read")
    results["shards"] = {"shape": ours["shape"], "raw_bytes": ours["raw_bytes"], "hounsfield": ours,
                         "h5py": theirs, "peak_rss_mb": {"hounsfield": our_peak, "h5py": their_peak}}
    results["versions"]["h5py"] = theirs["h5py"]
    results["versions"]["hdf5 (h5py)"] = theirs["hdf5"]

# End to end (issue 6): the whole job against SimpleITK + h5py and MONAI, a batch against a process pool, latency.
end_to_end_sections = sections & {"pipeline", "nifti", "latency", "batch", "memory"}
if end_to_end_sections:
    import end_to_end_compare
    results.update(end_to_end_compare.measure({
        "hounsfield": hounsfield, "hf_bench": hf_bench, "here": here, "work": work, "repeats": repeats,
        "quick": args.quick, "gnu_time": gnu_time, "series_folder": series_folder, "make": make, "size": size,
        "slices": slices, "monai": not args.no_monai}, end_to_end_sections))
    for entry in results.get("pipeline", []) + [results.get("latency", {})]:
        for tool in ["simpleitk", "monai"]:
            results["versions"].update(entry.get(tool, {}).get("versions", {}))

# Discovery: 10k and 20k runs interleaved (one scan each per round), so machine noise hits both alike.
folders = {count: make("many", f"{work}/many-{count}", files=count) for count in many} if "discovery" in sections else {}
rounds = {count: [] for count in folders}
peaks = {count: 0.0 for count in folders}
for round_index in range(max(repeats, 3) if not args.quick else 1) if folders else []:
    for count in many:
        measured, peak = run([hf_bench, "discover", folders[count], "--repeat", "1"], f"hounsfield discover {count}")
        rounds[count].append(measured)
        peaks[count] = max(peaks[count], peak)


for count in folders:
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
if folders:
    ratios = [b["median_s"] / a["median_s"] for a, b in zip(rounds[many[0]], rounds[many[1]])]
    results["discovery_scaling_20k_over_10k"] = results["discovery"][1]["hounsfield"]["median_s"] / results["discovery"][0]["hounsfield"]["median_s"]
    results["discovery_scaling_per_round"] = ratios

results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
results["peak_rss_source"] = rss_source
results["load_average_at_end"] = os.getloadavg()
with open(os.path.join(results_dir, "results.json"), "w") as file:
    json.dump(results, file, indent=2)

def yes(flag):
    return "yes" if flag else "**NO**"


lines = [
    f"Machine: {results['machine']['cores']} cores, {results['machine']['platform']}; "
    f"SimpleITK {results['versions']['SimpleITK']}; hounsfield {results['versions']['hounsfield']}; "
    f"medians of {repeats} interleaved round(s); peak RSS from {rss_source}; load average at start "
    f"{results['load_average_at_start'][0]:.2f}, at end {results['load_average_at_end'][0]:.2f}.",
]
# The decode tables only when the decode section ran (--only picks sections).
decode_lines = [
    "",
    f"Decode of {size}×{size}×{slices} (find the series in the folder + read it as acquired; a warm decode in a "
    f"fresh process, the tools taking turns). SimpleITK's headline is "
    "ImageSeriesReader (GetGDCMSeriesFileNames + SetFileNames + Execute); sitk.ReadImage(list of files) beside it.",
    "",
    "| syntax | Hounsfield | SimpleITK ImageSeriesReader | ratio S/H | SimpleITK ReadImage(list) | ratio S/H "
    "| peak RSS MB (H / ISR / ReadImage) | same HU SHA-256 (ISR / ReadImage) |",
    "|---|---|---|---|---|---|---|---|",
]
if results["decode"]:
    lines += decode_lines
for entry in results["decode"]:
    h, isr, ri = entry["hounsfield"], entry["simpleitk_series_reader"], entry["simpleitk_read"]
    lines.append(
        f"| {entry['syntax']} | {h['median_s']:.3f} s | {isr['median_s']:.3f} s | **{isr['ratio_over_hounsfield']:.1f}×** "
        f"| {ri['median_s']:.3f} s | {ri['ratio_over_hounsfield']:.1f}× "
        f"| {h['peak_rss_mb']:.0f} / {isr['peak_rss_mb']:.0f} / {ri['peak_rss_mb']:.0f} "
        f"| {yes(isr['same_hu_sha256'])} / {yes(ri['same_hu_sha256'])} |")
if results["decode"]:
    lines += ["", "Decode, the other peers and the floor (the same folders, same rounds; ratio = their time / "
                  "Hounsfield's; dcm2niix is its executable writing an uncompressed NIfTI, read back with nibabel):",
              "", "| syntax | page-cache read (floor) | pydicom + numpy | TorchIO | dcm2niix | same HU (pydicom / "
                  "TorchIO: SHA-256; dcm2niix: sum) |", "|---|---|---|---|---|---|"]
    for entry in results["decode"]:
        h = entry["hounsfield"]["median_s"]
        cells = [f"{entry['page_cache']['median_s']:.3f} s ({h / entry['page_cache']['median_s']:.1f}× below us)"]
        for tool in ["pydicom", "torchio", "dcm2niix"]:
            cells.append(f"{entry[tool]['median_s']:.3f} s (**{entry[tool]['median_s'] / h:.1f}×**)")
        same = " / ".join(yes(entry[t]["same_hu_sha256"]) for t in ["pydicom", "torchio"]) + " / " + yes(entry["dcm2niix"]["same_hu_sum"])
        lines.append(f"| {entry['syntax']} | " + " | ".join(cells) + f" | {same} |")
if results["decode"]:
    lines += ["", "HU SHA-256 (float32, C order; Hounsfield from `hounsfield inspect --stats --json`): " + "; ".join(
        f"{entry['syntax']}: Hounsfield `{entry['hounsfield']['hu_sha256'][:16]}…`, SimpleITK "
        f"`{entry['simpleitk']['hu_sha256'][:16]}…` (read as {entry['simpleitk']['pixel_type']})"
        for entry in results["decode"]) + "."]
if results["discovery"]:
    lines += [
        "",
        "Discovery (headers only; Hounsfield `SeriesScanner.scan`; SimpleITK walks the folders and calls "
        "GetGDCMSeriesIDs + GetGDCMSeriesFileNames in each, at the smaller count only).",
        "",
        "| files | series | Hounsfield | files/s | SimpleITK | files/s | ratio S/H | peak RSS MB (H / S) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["discovery"]:
        h = entry["hounsfield"]
        if "simpleitk" in entry:
            s_ = entry["simpleitk"]
            sitk_part = (f"{s_['median_s']:.2f} s | {s_['files_per_s']:.0f} | **{entry['ratio_simpleitk_over_hounsfield']:.1f}×** "
                         f"| {h['peak_rss_mb']:.0f} / {s_['peak_rss_mb']:.0f}")
        else:
            sitk_part = f"— | — | — | {h['peak_rss_mb']:.0f} / —"
        lines.append(f"| {entry['files']} | {entry['series']} | {h['median_s']:.2f} s | {h['files_per_s']:.0f} | {sitk_part} |")
    per_round = ", ".join(f"{r:.2f}" for r in results["discovery_scaling_per_round"])
    lines += ["", f"Discovery time at {many[1]} files / at {many[0]} files: "
                  f"**{results['discovery_scaling_20k_over_10k']:.2f}** (linear = 2.0; ratio of medians of "
                  f"interleaved runs; per round: {per_round})."]
if results["resample"]:
    lines += ["", "| resample (Float32, to 1 mm) | Hounsfield | SimpleITK | ratio S/H | peak RSS MB (H / S) |",
              "|---|---|---|---|---|"]
    for entry in results["resample"]:
        lines.append(
            f"| {'×'.join(map(str, entry['input_size']))} → {'×'.join(map(str, entry['output_size']))}, "
            f"{entry['interpolation']} | {entry['hounsfield']['median_s']:.3f} s | {entry['simpleitk']['median_s']:.3f} s "
            f"| **{entry['ratio_simpleitk_over_hounsfield']:.1f}×** | {entry['hounsfield']['peak_rss_mb']:.0f} / "
            f"{entry['simpleitk']['peak_rss_mb']:.0f} |")
if "intensity" in results:
    intensity = results["intensity"]
    lines += ["", f"Intensity throughput on {intensity['voxels'] / 1e6:.0f} M voxels: window "
                  f"{intensity['window_voxels_per_s'] / 1e9:.2f} G voxels/s, z-score "
                  f"{intensity['zscore_voxels_per_s'] / 1e9:.2f} G voxels/s; the floor, a plain copy of the same "
                  f"buffer: {intensity['copy_voxels_per_s'] / 1e9:.2f} G voxels/s."]
if "shards" in results:
    sh = results["shards"]
    ours_w = {(w["compression"], "cubes" if w["chunks"].startswith("cubes") else "slabs"): w for w in sh["hounsfield"]["writes"]}
    lines += ["", f"Shard write of the 1 mm Float32 volume ({'×'.join(map(str, sh['shape']))}, "
                  f"{sh['raw_bytes'] / 1e6:.0f} MB; Hounsfield on {sh['hounsfield']['threads']} threads, h5py "
                  f"{sh['h5py']['h5py']} with HDF5 {sh['h5py']['hdf5']}; same chunk shape, same filters, file fsynced):", "",
              "| codec, chunks | Hounsfield | MB/s | h5py | MB/s | ratio h5py/H | compression ratio (H / h5py) |",
              "|---|---|---|---|---|---|---|"]
    for w in sh["h5py"]["writes"]:
        layout = "cubes" if w["chunk_shape"][1] != sh["shape"][1] else "slabs"
        h = ours_w.get((w["compression"], layout))
        if h is None:
            continue
        lines.append(f"| {w['compression']}, {layout} {'×'.join(map(str, h['chunk_shape']))} | {h['median_s']:.3f} s | "
                     f"{h['mb_per_s']:.0f} | {w['median_s']:.3f} s | {w['mb_per_s']:.0f} | "
                     f"**{w['median_s'] / h['median_s']:.1f}×** | {h['ratio']:.2f} / {w['ratio']:.2f} |")
    lines += ["", "| read (gzip:1) | Hounsfield whole | h5py whole | ratio | Hounsfield patches/s | h5py patches/s | ratio |",
              "|---|---|---|---|---|---|---|"]
    for h, p in zip(sh["hounsfield"]["reads"], sh["h5py"]["reads"]):
        lines.append(f"| {h['chunks']} | {h['whole_median_s']:.3f} s | {p['whole_median_s']:.3f} s | "
                     f"**{p['whole_median_s'] / h['whole_median_s']:.1f}×** | {h['patches_per_s']:.0f} | "
                     f"{p['patches_per_s']:.0f} | **{h['patches_per_s'] / p['patches_per_s']:.1f}×** |")
    lines += ["", f"Random patches: {len(json.load(open(os.path.join(work, 'shards', 'volume.json')))['origins'])} of "
                  f"{'×'.join(map(str, json.load(open(os.path.join(work, 'shards', 'volume.json')))['patch']))} voxels. "
                  f"h5py reads Hounsfield's gzip shard with equal values: {yes(sh['h5py']['h5py_reads_hounsfield_shard_equal'])}."]
if end_to_end_sections:
    lines += end_to_end_compare.table(results)
table = "\n".join(lines) + "\n"
with open(os.path.join(results_dir, "results.md"), "w") as file:
    file.write(table)
try:
    import chart
    if chart.draw(results, os.path.join(results_dir, "results.png")):
        print(f"chart: {os.path.join(results_dir, 'results.png')}", file=sys.stderr)
except ImportError as error:  # matplotlib missing: the table is still complete
    print(f"no chart ({error})", file=sys.stderr)
print(table)
if not all(entry["same_hu_sha256"] for entry in results["decode"]):
    raise SystemExit("the HU volumes of Hounsfield and SimpleITK differ (see results.json)")
