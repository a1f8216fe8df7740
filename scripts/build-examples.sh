#!/usr/bin/env bash
# Builds every Swift package under Examples/ and runs each once on a tiny synthetic study, so the examples are
# exercised, not only compiled: swift-reader on the shards of a `hounsfield run` and on the DICOM files, per-study on
# the same files with the run's flags, and --compare checks that it gives the bytes the run stored.
#
# The examples share one scratch path, Examples/.build (git-ignored): the Hounsfield modules are the same in each,
# so the first build compiles them and the next ones compile only their own files (seconds, not minutes). The
# `hounsfield` tool that makes the test data comes from the same scratch path, as a product of the examples'
# dependency. Every build passes --disable-build-manifest-caching: SwiftPM (6.3) otherwise keeps the build plan of
# the previous root package in a shared scratch path and reports "Build complete" having built the wrong package.
#
# HOUNSFIELD_EXAMPLES_SCRATCH names another scratch path. The main package's `.build` after `scripts/test.sh` works
# and saves compiling Hounsfield again (CI does this); nothing else may build in it at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scratch="${HOUNSFIELD_EXAMPLES_SCRATCH:-$PWD/Examples/.build}"

examples=()
for manifest in Examples/*/Package.swift; do examples+=("$(dirname "$manifest")"); done

# A build's whole log only when it fails: a success is one line.
build() {
  local log status=0
  log="$(mktemp)"
  swift build --scratch-path "$scratch" --disable-build-manifest-caching "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then cat "$log" >&2; rm -f "$log"; echo "build-examples: swift build $* failed" >&2; exit "$status"; fi
  echo "build-examples: swift build $*: $(tail -n 1 "$log")"
  rm -f "$log"
}

for example in "${examples[@]}"; do build --package-path "$example"; done
build --package-path "${examples[0]}" --product hounsfield
bin="$(swift build --scratch-path "$scratch" --package-path "${examples[0]}" --show-bin-path)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
step() { echo; echo "build-examples: $*"; "$@"; }

# The study, and the batch run whose output the readers read and per-study compares with.
flags=(--window 40,400 --spacing 1 --normalize minmax --salt build-examples)
step "$bin/hounsfield" synth --output "$work/ct" --size 64 --slices 20
step "$bin/hounsfield" run "$work/ct" --output "$work/out" "${flags[@]}"

step "$bin/swift-reader" shards "$work/out"
step "$bin/swift-reader" shards "$work/out" --mode slab --batches 2
step "$bin/swift-reader" dicom "$work/ct" --batches 2
step "$bin/per-study" "$work/ct" "${flags[@]}" --compare "$work/out" --calls 3
step "$bin/per-study" "$work/ct" --config "$work/out" --salt build-examples --compare "$work/out"
step "$bin/per-study" "$work/ct" --config Examples/configurations/nnunet-ct.yaml
# The Kubernetes example's run configuration stays one that `hounsfield` accepts (scripts/check-examples.sh, which
# runs before any build, checks its YAML only).
step "$bin/hounsfield" run "$work/ct" --output "$work/kubernetes-plan" --config Examples/kubernetes/run.yaml --salt build-examples --dry-run
echo
echo "build-examples: ${#examples[@]} example packages built and run"
