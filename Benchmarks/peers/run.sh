#!/usr/bin/env bash
# Side-by-side comparison of Hounsfield with SimpleITK on the same synthetic CT, in one run.
#   Benchmarks/peers/run.sh            full: 512×512×300 decode, discovery at 10k and 20k files
#   Benchmarks/peers/run.sh --quick    tiny sizes, one repeat (a smoke test: does the comparison start and finish?)
# Results: Benchmarks/peers/results/{results.json,results.md}
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/setup.sh"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "SimpleITK==2.5.7" numpy
echo "building hounsfield and hf-bench (release)…" >&2
(cd "$root" && swift build -c release --product hounsfield 2>&1 | grep -E "error|warning: unre" >&2 || true)
(cd "$root" && swift build -c release --package-path Benchmarks --product hf-bench 2>&1 | grep -E "error" >&2 || true)
exec "$venv/bin/python" "$here/compare.py" --root "$root" "$@"
