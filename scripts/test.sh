#!/usr/bin/env bash
# The README's second command: set up and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The numerical references the tests compare against (SimpleITK's resampling, numpy's formulas) live in a venv.
venv=".venv-test"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import SimpleITK, numpy, scipy, skimage, h5py, hdf5plugin" 2>/dev/null; then
  "$venv/bin/pip" install -q "SimpleITK==2.5.7" numpy scipy scikit-image h5py hdf5plugin || { echo "test: cannot install SimpleITK, numpy, scipy, scikit-image, h5py and hdf5plugin from PyPI into $venv" >&2; exit 1; }
fi
export HOUNSFIELD_PYTHON="$PWD/$venv/bin/python"
# The pipeline tests run the `hounsfield` executable (kill -9 and resume), so build it first.
swift build --product hounsfield
exec swift test --parallel "$@"
