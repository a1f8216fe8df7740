#!/usr/bin/env bash
# Side-by-side comparison of Hounsfield with its peers (SimpleITK, MONAI, h5py, …) on the same synthetic CT, in one run.
#   Benchmarks/peers/run.sh                  full: 512×512×300 decode (explicit, JPEG lossless), discovery at 10k and
#                                            20k files, resampling and intensity transforms; 5 repeats, medians
#   Benchmarks/peers/run.sh --quick          64×64×20 and 200/400 files, one repeat: a smoke test for CI
#   Benchmarks/peers/run.sh --work DIR       where the inputs go and are reused (default /tmp/hounsfield-peers)
#   Benchmarks/peers/run.sh --repeats N      repeats per measurement;  --skip-transforms: decode + discovery only
#   Benchmarks/peers/run.sh --only S,S       sections: decode, transforms, discovery, shards, pipeline, latency,
#                                            batch, memory (default: all but memory, which makes 384 series of
#                                            512×512×80, ~15 GB, and runs 24, 96 and 384 of them: ~25 min per round)
# Results: Benchmarks/peers/results/{results.json,results.md,results.png} (gitignored); the table is also printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/setup.sh"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
"${pip[@]}" "SimpleITK==2.5.7" numpy h5py hdf5plugin
# MONAI needs torch. PyPI's Linux torch pulls gigabytes of CUDA libraries: take the CPU build from a local wheel
# folder (pip's find-links, e.g. /opt/wheels) or PyTorch's CPU index when either has it, else PyPI's.
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  "${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null \
    || "${pip[@]}" torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "${pip[@]}" torch
fi
# The peers as their users install them: MONAI reads DICOM folders through ITK; dcm2niix comes as a wheel.
"${pip[@]}" "monai==1.6.1" "itk==5.4.7" "pydicom==3.0.2" "pylibjpeg[libjpeg]" scipy "torchio==1.2.1" nibabel \
  "dcm2niix==1.0.20260724" matplotlib

build() { # build DESCRIPTION ARGS…: quiet on success, the whole log on failure
  local description="$1" log
  shift
  echo "building $description (release)…" >&2
  if ! log="$(cd "$root" && swift build -c release "$@" 2>&1)"; then
    echo "$log" >&2
    echo "run.sh: building $description failed" >&2
    exit 1
  fi
}
build hounsfield --product hounsfield
# This package sees the parent through a path dependency, and SwiftPM keeps the parent's list of source files in
# Benchmarks/.build/build.db: when a file was added or removed there (or the parent's Package.swift changed) since
# the last build, forget that database (a full rebuild, minutes) instead of failing with "cannot find … in scope"
# or "no such module", or running old code.
stamp="$root/Benchmarks/.build/parent-sources.list"
sources="$(cd "$root" && find Sources -type f | LC_ALL=C sort; sha256sum Package.swift)"  # new dependencies too
if [ -f "$root/Benchmarks/.build/build.db" ] && [ "$sources" != "$(cat "$stamp" 2>/dev/null)" ]; then
  echo "the parent's source files changed: rebuilding the benchmarks package from scratch" >&2
  rm -f "$root/Benchmarks/.build/build.db"
fi
build hf-bench --package-path Benchmarks --product hf-bench
printf "%s\n" "$sources" > "$stamp"
exec "$venv/bin/python" "$here/compare.py" --root "$root" "$@"
