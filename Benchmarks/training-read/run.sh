#!/usr/bin/env bash
# Reproduces the training-read comparison (issue 21): random 96³ patches and whole volumes from every layout, in
# one run on one machine. Usage: run.sh [OUTPUT_FOLDER] (a Hounsfield output folder written with the default slabs,
# gzip 1; default /work/ab/ab-out-A). Environment: DATA (where the layouts are written, default /work/read-data),
# VENV (default Benchmarks/training-read/.venv), PATCHES (400), WARMUP (40), LIMIT_SECONDS (90 per layout),
# ROUNDS (1: each layout measured once; more interleave the layouts and report medians), REPORT (default
# $DATA/report.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source_folder="${1:-/work/ab/ab-out-A}"
data="${DATA:-/work/read-data}"
venv="${VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import numpy, h5py, hdf5plugin, blosc, blosc2, torch, nnunetv2" 2>/dev/null; then
  # torch: a CPU build (a local wheel in pip's find-links, or PyTorch's CPU index), as scripts/test.sh does.
  "$venv/bin/pip" install -q "torch==2.13.0+cpu" 2>/dev/null \
    || "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu
  # nnunetv2 asks for torch: pin the CPU build just installed, or pip swaps it for PyPI's CUDA build.
  torch_version="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
  "$venv/bin/pip" install -q numpy h5py hdf5plugin blosc blosc2 nnunetv2 "torch==$torch_version"
fi
# The reader before the fast path, for the first row, when this clone's history still has that commit (a history
# rewritten since, or a shallow clone, has not: the row is then left out).
old_reader="$(mktemp --suffix=.py)"
trap 'rm -f "$old_reader"' EXIT
old_reader_argument=()
if git -C "$repo" show b3dcd2e:Examples/python/hounsfield_shards.py > "$old_reader" 2>/dev/null; then
  old_reader_argument=(--old-reader "$old_reader")
else
  echo "run.sh: commit b3dcd2e is not in this clone's history: the 'reader before this change' row is left out" >&2
fi
"$venv/bin/python" "$here/prepare.py" --source "$source_folder" --data "$data"
cat "$source_folder/shard-00000.h5" "$data"/*/shard-00000.h5 "$data"/b2nd/* "$data"/npy/* > /dev/null  # warm cache
"$venv/bin/python" "$here/bench.py" --source "$source_folder" --data "$data" "${old_reader_argument[@]}" \
  --patches "${PATCHES:-400}" --warmup "${WARMUP:-40}" --limit-seconds "${LIMIT_SECONDS:-90}" --rounds "${ROUNDS:-1}" \
  --report "${REPORT:-$data/report.json}"
