#!/usr/bin/env bash
# Side-by-side comparison of Hounsfield with SimpleITK on the same synthetic CT, in one run.
#   Benchmarks/peers/run.sh                  full: 512×512×300 decode (explicit, JPEG lossless), discovery at 10k and
#                                            20k files, resampling and intensity transforms; 5 repeats, medians
#   Benchmarks/peers/run.sh --quick          64×64×20 and 200/400 files, one repeat: a smoke test for CI
#   Benchmarks/peers/run.sh --work DIR       where the inputs go and are reused (default /tmp/hounsfield-peers)
#   Benchmarks/peers/run.sh --repeats N      repeats per measurement;  --skip-transforms: decode + discovery only
# Results: Benchmarks/peers/results/{results.json,results.md} (gitignored); the Markdown table is also printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/setup.sh"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "SimpleITK==2.5.7" numpy h5py hdf5plugin

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
# Benchmarks/.build/build.db: when a file was added or removed there since the last build, forget that database
# (a full rebuild, minutes) instead of failing with "cannot find … in scope" or running old code.
stamp="$root/Benchmarks/.build/parent-sources.list"
sources="$(cd "$root" && find Sources Package.swift -type f | LC_ALL=C sort)"
if [ -f "$root/Benchmarks/.build/build.db" ] && [ "$sources" != "$(cat "$stamp" 2>/dev/null)" ]; then
  echo "the parent's source files changed: rebuilding the benchmarks package from scratch" >&2
  rm -f "$root/Benchmarks/.build/build.db"
fi
build hf-bench --package-path Benchmarks --product hf-bench
printf "%s\n" "$sources" > "$stamp"
exec "$venv/bin/python" "$here/compare.py" --root "$root" "$@"
