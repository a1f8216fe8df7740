"""The bar chart of results.json: for every job and peer, the peer's time over Hounsfield's (log scale; right of
the line at 1 means Hounsfield is faster). Called by compare.py; `python chart.py results.json out.png` redraws it."""
import json
import sys


def ratios(results):
    """(label, ratio) pairs, in the order of the report."""
    rows = []
    for entry in results.get("decode", []):
        for tool, name in [("simpleitk", "SimpleITK"), ("pydicom", "pydicom"), ("torchio", "TorchIO"),
                           ("dcm2niix", "dcm2niix")]:
            if tool in entry:
                rows.append((f"decode {entry['syntax']}: {name}", entry[tool]["median_s"] / entry["hounsfield"]["median_s"]))
    for entry in results.get("resample", []):
        rows.append((f"resample {entry['interpolation']}: SimpleITK", entry["ratio_simpleitk_over_hounsfield"]))
    shards = results.get("shards")
    if shards:
        ours = {w["compression"]: w for w in shards["hounsfield"]["writes"] if not w["chunks"].startswith("cubes")}
        for write in shards["h5py"]["writes"]:
            if write["compression"] in ours and write["chunk_shape"] == ours[write["compression"]]["chunk_shape"]:
                rows.append((f"shard write {write['compression']}: h5py", write["median_s"] / ours[write["compression"]]["median_s"]))
    for pipeline in results.get("pipeline", []):
        for tool, name in [("simpleitk", "SimpleITK + h5py"), ("monai", "MONAI + h5py")]:
            if tool in pipeline:
                rows.append((f"end to end {pipeline['syntax']}: {name}", pipeline[tool]["ratio_over_hounsfield"]))
    if "batch" in results:
        rows.append(("batch of 24: SimpleITK, 2 processes", results["batch"]["ratio_simpleitk_pool_over_hounsfield"]))
    latency = results.get("latency")
    if latency:
        for tool, name in [("simpleitk", "SimpleITK"), ("monai", "MONAI")]:
            if tool in latency:
                rows.append((f"per-study latency: {name}", latency[tool]["ratio_over_hounsfield"]))
    return rows


def draw(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = ratios(results)
    if not rows:
        return False
    labels, values = zip(*reversed(rows))
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.2))
    positions = range(len(values))  # numeric rows: two equal labels must not share a bar
    axes.barh(positions, values, color=["#2a7ab9" if v >= 1 else "#c0392b" for v in values])
    axes.set_yticks(list(positions), labels)
    axes.axvline(1, color="black", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("peer time / Hounsfield time (log scale; > 1: Hounsfield is faster)")
    for y, value in enumerate(values):
        axes.text(value, y, f" {value:.1f}×", va="center", fontsize=8)
    machine = results.get("machine", {})
    axes.set_title(f"Hounsfield against its peers, one run on {machine.get('cores', '?')} cores", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        draw(json.load(file), sys.argv[2])
