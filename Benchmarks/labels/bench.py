"""Label decoding side by side (issue 20): an RTSTRUCT of 20 ROIs rasterized by rt-utils and by Hounsfield, and a
100-segment BINARY SEG decoded by highdicom and by Hounsfield, on the same 512×512×300 CT, in one run.

Each round runs each tool in a fresh process, in turn (machine noise then hits all alike); times are taken inside
the process (imports and start-up are not counted), peak RSS comes from the child's rusage. Reported: medians over
the rounds, the ratio peer / Hounsfield, and the agreement of the masks (voxels per class: identical for the SEG;
for the RTSTRUCT Hounsfield counts a voxel when its centre is inside the contour, rt-utils also when the contour
only touches it, so the count ratio and, after the rounds, the Dice of every ROI voxel by voxel are printed, not
checked).
Usage: bench.py --ct CT --labels LABELS --hf-bench PATH [--rounds 3] [--output results.json]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def worker_rtutils(ct, rtstruct):
    from rt_utils import RTStructBuilder
    start = time.perf_counter()
    rt = RTStructBuilder.create_from(dicom_series_path=ct, rt_struct_path=rtstruct)
    loaded = time.perf_counter()
    masks = {name: rt.get_roi_mask_by_name(name) for name in rt.get_roi_names()}
    done = time.perf_counter()
    counts = {name: int(mask.sum()) for name, mask in masks.items()}
    return {"total_s": done - start, "load_s": loaded - start, "decode_s": done - loaded, "counts": counts}


def worker_highdicom(ct, seg_file):
    import highdicom as hd
    import numpy as np
    import pydicom
    start = time.perf_counter()
    headers = [pydicom.dcmread(os.path.join(ct, f), stop_before_pixels=True) for f in os.listdir(ct)]

    def position(ds):
        iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
        return float(np.dot(np.cross(iop[:3], iop[3:]), np.asarray(ds.ImagePositionPatient, dtype=float)))

    uids = [ds.SOPInstanceUID for ds in sorted(headers, key=position)]
    listed = time.perf_counter()
    seg = hd.seg.segread(seg_file)
    pixels = seg.get_pixels_by_source_instance(uids, combine_segments=False, ignore_spatial_locations=True,
                                               assert_missing_frames_are_empty=True)
    done = time.perf_counter()
    numbers = seg.get_segment_numbers()
    totals = pixels.sum(axis=(0, 1, 2), dtype=np.int64)
    counts = {seg.get_segment_description(n).segment_label: int(c) for n, c in zip(numbers, totals)}
    return {"total_s": done - start, "load_s": listed - start, "decode_s": done - listed, "counts": counts,
            "shape": list(pixels.shape)}


def worker_dice(ct, rtstruct, masks):
    """Dice of every ROI, rt-utils' mask against Hounsfield's (`hf-bench labels --masks`), rt-utils' slices put in
    the order of their position along the normal, as Hounsfield's are."""
    import numpy as np
    from rt_utils import RTStructBuilder
    rt = RTStructBuilder.create_from(dicom_series_path=ct, rt_struct_path=rtstruct)

    def position(ds):
        iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
        return float(np.dot(np.cross(iop[:3], iop[3:]), np.asarray(ds.ImagePositionPatient, dtype=float)))

    order = np.argsort([position(ds) for ds in rt.series_data])
    dice = {}
    for name in rt.get_roi_names():
        peer = np.moveaxis(rt.get_roi_mask_by_name(name), -1, 0)[order]  # (slices, rows, columns)
        bits = np.fromfile(os.path.join(masks, f"{name}.bits"), dtype=np.uint8)
        ours = np.unpackbits(bits, count=peer.size).reshape(peer.shape).astype(bool)
        dice[name] = 2 * int((ours & peer).sum()) / (int(ours.sum()) + int(peer.sum()))
        dice[name + " ours-outside-peer"] = int((ours & ~peer).sum())
    return dice


def run(command):
    """Runs `command`, returns its JSON output and its peak RSS in MiB (the child's rusage)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(command)}")
    result = json.loads(output.strip().splitlines()[-1])
    result["max_rss_mib"] = usage.ru_maxrss / 1024
    return result


def hounsfield(hf_bench, ct, label_file):
    result = run([hf_bench, "labels", ct, label_file, "--repeats", "1"])
    (entry,) = result["objects"]
    return {"total_s": result["median_s"], "load_s": result["scan_median_s"], "decode_s": entry["decode_median_s"],
            "counts": {c["name"]: c["voxels"] for c in entry["classes"]}, "max_rss_mib": result["max_rss_mib"],
            "warnings": entry["warnings"]}


def summarize(rounds):
    keys = ("total_s", "load_s", "decode_s", "max_rss_mib")
    return {key: statistics.median(r[key] for r in rounds) for key in keys} | {
        "rounds": [{key: r[key] for key in keys} for r in rounds]}


def agreement(ours, peer, exact):
    names = sorted(peer)
    if sorted(ours) != names:
        return {"ok": False, "reason": f"class names differ: {sorted(ours)[:3]}… against {names[:3]}…"}
    ratios = [ours[n] / peer[n] for n in names if peer[n]]
    # 2·ours / (ours + peer) is the Dice when one mask lies inside the other, and an upper bound on it otherwise.
    dice = [2 * ours[n] / (ours[n] + peer[n]) for n in names if ours[n] + peer[n]]
    mismatched = [n for n in names if ours[n] != peer[n]]
    return {"ok": not mismatched if exact else True, "identical_classes": len(names) - len(mismatched),
            "classes": len(names), "voxels_ours": sum(ours.values()), "voxels_peer": sum(peer.values()),
            "count_ratio_min": min(ratios), "count_ratio_median": statistics.median(ratios),
            "count_ratio_total": sum(ours.values()) / sum(peer.values()),
            "dice_upper_bound_median": statistics.median(dice)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ct")
    parser.add_argument("--labels")
    parser.add_argument("--hf-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)  # TOOL CT FILE [MASKS]
    args = parser.parse_args()
    if args.worker:
        tool, ct, file, *rest = args.worker
        workers = {"rt-utils": worker_rtutils, "highdicom": worker_highdicom, "dice": worker_dice}
        print(json.dumps(workers[tool](ct, file, *rest)))
        return
    if not (args.ct and args.labels and args.hf_bench):
        parser.error("--ct, --labels and --hf-bench are required")
    rtstruct, seg = (os.path.join(args.labels, name) for name in ("rtstruct.dcm", "seg.dcm"))
    inputs = json.load(open(os.path.join(args.labels, "inputs.json")))
    subprocess.run(["cat", *[os.path.join(args.ct, f) for f in os.listdir(args.ct)], rtstruct, seg],
                   stdout=subprocess.DEVNULL, check=True)  # the page cache, warm for every tool
    me = [sys.executable, os.path.abspath(__file__)]
    tools = {
        "rt-utils": lambda: run(me + ["--worker", "rt-utils", args.ct, rtstruct]),
        "hounsfield-rtstruct": lambda: hounsfield(args.hf_bench, args.ct, rtstruct),
        "highdicom": lambda: run(me + ["--worker", "highdicom", args.ct, seg]),
        "hounsfield-seg": lambda: hounsfield(args.hf_bench, args.ct, seg),
    }
    rounds = {name: [] for name in tools}
    load = os.getloadavg()[0]
    for index in range(args.rounds):
        for name, tool in tools.items():
            rounds[name].append(tool())
            print(f"round {index + 1}/{args.rounds} {name}: {rounds[name][-1]['total_s']:.3f} s", file=sys.stderr)
    # Voxel by voxel for the RTSTRUCT (untimed): Hounsfield's masks as bits, read next to rt-utils' own.
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.labels))) as masks:
        run([args.hf_bench, "labels", args.ct, rtstruct, "--no-counts", "--masks", masks])
        pairs = run(me + ["--worker", "dice", args.ct, rtstruct, masks])
    pairs.pop("max_rss_mib")
    dice = {name: value for name, value in pairs.items() if " " not in name}
    outside = sum(value for name, value in pairs.items() if name.endswith(" ours-outside-peer"))
    summary = {name: summarize(r) for name, r in rounds.items()}
    last = {name: r[-1]["counts"] for name, r in rounds.items()}
    report = {
        "machine": {"cpus": os.cpu_count(), "load_average_start": load, "load_average_end": os.getloadavg()[0],
                    "uname": " ".join(os.uname())},
        "rounds": args.rounds, "medians": summary,
        "ratios": {
            "rtstruct_total": summary["rt-utils"]["total_s"] / summary["hounsfield-rtstruct"]["total_s"],
            "seg_total": summary["highdicom"]["total_s"] / summary["hounsfield-seg"]["total_s"],
            "seg_decode": summary["highdicom"]["decode_s"] / summary["hounsfield-seg"]["decode_s"],
        },
        "agreement": {
            "rtstruct_vs_rt_utils": agreement(last["hounsfield-rtstruct"], last["rt-utils"], exact=False),
            "rtstruct_vs_source_masks": agreement(last["hounsfield-rtstruct"], inputs["rtstruct"]["rois"], exact=False),
            "seg_vs_highdicom": agreement(last["hounsfield-seg"], last["highdicom"], exact=True),
            "seg_vs_source_masks": agreement(last["hounsfield-seg"], inputs["seg"]["segments"], exact=True),
        },
        "rtstruct_dice": {"median": statistics.median(dice.values()), "min": min(dice.values()),
                          "max": max(dice.values()), "ours_outside_rt_utils_voxels": outside, "per_roi": dice},
        "warnings": {name: rounds[name][-1]["warnings"] for name in ("hounsfield-rtstruct", "hounsfield-seg")},
    }
    text = json.dumps(report, indent=1)
    if args.output:
        open(args.output, "w").write(text + "\n")
    print(text)
    if not report["agreement"]["seg_vs_highdicom"]["ok"]:
        sys.exit("the SEG masks differ between highdicom and Hounsfield")


if __name__ == "__main__":
    main()
