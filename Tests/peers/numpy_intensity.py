"""numpy implementations of the window and normalization formulas, in float64, as the reference for the tests.
Usage: numpy_intensity.py spec.json (fields: input, output, transform = the transform's JSON specification)."""
import json
import sys

import numpy as np

spec = json.load(open(sys.argv[1]))
x = np.fromfile(spec["input"], dtype="<f4").astype(np.float64)
t = spec["transform"]
if t["type"] == "window":
    lo, hi = t["minimum"], t["maximum"]
    clipped = np.clip(x, lo, hi)
    y = {"hounsfield": clipped, "unit": (clipped - lo) / (hi - lo), "symmetric": 2 * (clipped - lo) / (hi - lo) - 1}[t["output"]]
elif t["method"] == "minmax":
    low, high = t.get("low", 0.0), t.get("high", 1.0)
    y = (x - x.min()) / (x.max() - x.min()) * (high - low) + low
elif t["method"] == "zscore":
    mean = t.get("mean", x.mean())
    std = t.get("standardDeviation", max(x.std(), 1e-8))
    y = (x - mean) / std
else:  # nnunet-ct
    y = (np.clip(x, t["lower"], t["upper"]) - t["mean"]) / max(t["standardDeviation"], 1e-8)
y.astype("<f4").tofile(spec["output"])
