#!/usr/bin/env bash
# Label decoding side by side (issue 20): an RTSTRUCT of 20 ROIs against rt-utils and a 100-segment SEG against
# highdicom, on one synthetic 512×512×300 CT (see README.md here).
#   Benchmarks/labels/run.sh                 3 rounds (~4 min on 2 cores once built and the inputs exist)
#   Benchmarks/labels/run.sh --rounds 5      more rounds
#   Benchmarks/labels/run.sh --work DIR      where the inputs are made once and reused
#                                            (default /tmp/hounsfield-labels, or $HOUNSFIELD_LABELS_WORK)
#   Benchmarks/labels/run.sh --no-build      use Benchmarks/.build/release/hf-bench as it is
# Results: Benchmarks/labels/results/results.json (gitignored); the report is printed too. Needs ~9 GB of free
# memory: both SEG decoders hold 100 full-size masks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${HOUNSFIELD_LABELS_WORK:-/tmp/hounsfield-labels}"
build=1
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import highdicom, rt_utils" 2>/dev/null; then
  "$venv/bin/pip" install -q --disable-pip-version-check "highdicom==0.28.2" "rt-utils==1.2.7" "pydicom==3.0.2" numpy
fi

hf_bench="$root/Benchmarks/.build/release/hf-bench"
if [ "$build" = 1 ]; then
  # SwiftPM caches the parent's file list: rebuild from scratch when it changed (see Benchmarks/README.md).
  stamp="$root/Benchmarks/.build/parent-sources.list"
  sources="$(cd "$root" && find Sources -type f | LC_ALL=C sort; sha256sum Package.swift)"
  if [ -f "$root/Benchmarks/.build/build.db" ] && [ "$sources" != "$(cat "$stamp" 2>/dev/null)" ]; then
    rm -f "$root/Benchmarks/.build/build.db"
  fi
  echo "building hf-bench (release)…" >&2
  if ! log="$(swift build -c release --package-path "$root/Benchmarks" --product hf-bench 2>&1)"; then
    echo "$log" >&2
    echo "run.sh: building hf-bench failed" >&2
    exit 1
  fi
  printf "%s\n" "$sources" > "$stamp"
fi

# Inputs, made once: the CT by hf-bench, the label objects by rt-utils and highdicom (a .complete marker each).
mkdir -p "$work"
if [ ! -f "$work/ct.complete" ]; then
  rm -rf "$work/ct"
  "$hf_bench" make --output "$work/ct" --kind series --size 512 --slices 300
  touch "$work/ct.complete"
fi
if [ ! -f "$work/labels.complete" ]; then
  rm -rf "$work/labels"
  "$venv/bin/python" "$here/make_inputs.py" --ct "$work/ct" --output "$work/labels"
  touch "$work/labels.complete"
fi

mkdir -p "$here/results"
"$venv/bin/python" "$here/bench.py" --ct "$work/ct" --labels "$work/labels" --hf-bench "$hf_bench" \
  --rounds "$rounds" --output "$here/results/results.json"
