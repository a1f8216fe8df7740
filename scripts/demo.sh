#!/usr/bin/env bash
# The README's first command: set up, build, make a synthetic CT series and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product hounsfield 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]" >&2 || true
exec .build/release/hounsfield demo "$@"
