#!/usr/bin/env bash
# The README's second command: set up and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# A first run needs about 8 GiB here: the debug build (2 GiB), the test venv with torch (2 GiB), and the peers' venv and
# release builds that .ci/run adds (4 GiB). A full disk shows up as a compiler crash deep in the build, so say it first.
free_kib="$(df -Pk . | awk 'NR == 2 { print $4 }')"
if [ -n "$free_kib" ] && [ "$free_kib" -lt $((8 * 1024 * 1024)) ]; then
  echo "test: only $((free_kib / 1024)) MiB free on $(df -P . | awk 'NR == 2 { print $6 }'); a first build and test run needs about 8 GiB. Free some space if the build fails with 'No space left on device'." >&2
fi
scripts/setup.sh
# The numerical references the tests compare against (SimpleITK's resampling, numpy's formulas) live in a venv.
venv=".venv-test"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
# The deployment examples first (seconds): YAML parsing, Kubernetes' schemas (kubernetes-validate bundles them, so
# the version is pinned and moved on purpose), the Slurm script against stand-ins, shellcheck.
if ! "$venv/bin/python" -c "import yaml, kubernetes_validate" 2>/dev/null; then
  "$venv/bin/pip" install -q pyyaml "kubernetes-validate==1.37.0" || { echo "test: cannot install PyYAML and kubernetes-validate from PyPI into $venv" >&2; exit 1; }
fi
HOUNSFIELD_PYTHON="$PWD/$venv/bin/python" scripts/check-examples.sh
if ! "$venv/bin/python" -c "import SimpleITK, numpy, scipy, skimage, h5py, hdf5plugin" 2>/dev/null; then
  "$venv/bin/pip" install -q "SimpleITK==2.5.7" numpy scipy scikit-image h5py hdf5plugin || { echo "test: cannot install SimpleITK, numpy, scipy, scikit-image, h5py and hdf5plugin from PyPI into $venv" >&2; exit 1; }
fi
# The daemon's HTTP tests use real Python clients: requests for the upload, safetensors to read the answer; and
# openapi-spec-validator checks docs/openapi/hounsfield-daemon.yaml.
if ! "$venv/bin/python" -c "import requests, safetensors, openapi_spec_validator" 2>/dev/null; then
  "$venv/bin/pip" install -q requests safetensors openapi-spec-validator || { echo "test: cannot install requests, safetensors and openapi-spec-validator from PyPI into $venv" >&2; exit 1; }
fi
# The label tests make their DICOM SEG, RTSTRUCT and NIfTI objects with the tools users make them with: highdicom,
# rt-utils and nibabel.
if ! "$venv/bin/python" -c "import highdicom, rt_utils, nibabel" 2>/dev/null; then
  "$venv/bin/pip" install -q highdicom rt-utils nibabel || { echo "test: cannot install highdicom, rt-utils and nibabel from PyPI into $venv" >&2; exit 1; }
fi
# torch lets the shard test run the Python reader under a DataLoader with workers. PyPI's Linux torch brings
# gigabytes of CUDA: only a CPU build is taken (a local wheel folder in pip's find-links, or PyTorch's CPU index);
# without one the test checks h5py alone and says so.
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  "$venv/bin/pip" install -q "torch==2.13.0+cpu" 2>/dev/null \
    || "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || echo "test: no CPU build of torch to install; the shard reader is checked with h5py only" >&2
fi
export HOUNSFIELD_PYTHON="$PWD/$venv/bin/python"
# The Python shard reader's own tests (fast path against h5py, samplers, DataLoader workers): no Swift build needed.
"$venv/bin/python" -m unittest -q Examples/python/test_hounsfield_shards.py
# Every public symbol of the library has a doc comment (a second; before the build so a gap fails fast).
python3 scripts/doc-coverage.py --summary
# The DICOM receiver (the DCMTK shim's C-STORE and C-ECHO SCP) against DCMTK's own storescu and echoscu, built with
# the toolchain's clang++ alone (about 40 s): limits, refusals, every transfer syntax kept as sent, a clean stop.
BUILD="$PWD/.build/receiver-smoke" Tests/native/build-receiver-smoke.sh
# The pipeline tests run the `hounsfield` executable (kill -9 and resume), so build it first.
swift build --product hounsfield
exec swift test --parallel "$@"
