#!/usr/bin/env bash
# Benchmarks of `hounsfield serve`: HTTP per-study latency beside `hounsfield run`, C-STORE ingest beside DCMTK's
# storescp, last-instance-to-shard latency, and a soak with RSS and open FDs sampled (see README.md here).
#   Benchmarks/daemon/run.sh                 everything: ~14 min on 2 cores (10 min of it the soak)
#   Benchmarks/daemon/run.sh --quick         fewer requests and rounds, a 2-minute soak: a smoke test (~5 min)
#   Benchmarks/daemon/run.sh --only http,cstore,soak   sections by name
#   Benchmarks/daemon/run.sh --work DIR      where inputs are made once and reused (default /tmp/hounsfield-daemon-bench)
#   Benchmarks/daemon/run.sh --no-build      use .build/release/hounsfield as it is
# Results: Benchmarks/daemon/results/results.json (gitignored); a summary is printed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=1
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-build" ]; then build=0; else args+=("$arg"); fi
done
for tool in storescu storescp; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool (DCMTK) is missing: scripts/setup.sh installs it" >&2; exit 1; }
done
if [ "$build" = 1 ]; then
  echo "building hounsfield (release)…" >&2
  if ! log="$(cd "$root" && swift build -c release --product hounsfield 2>&1)"; then
    echo "$log" >&2
    echo "run.sh: building hounsfield failed" >&2
    exit 1
  fi
fi
exec python3 "$here/bench.py" "${args[@]}"
