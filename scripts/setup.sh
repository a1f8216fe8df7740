#!/usr/bin/env bash
# Installs the Debian packages Hounsfield builds and tests against. Idempotent: does nothing when all are present.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  pkg-config
  libdcmtk-dev      # DICOM parsing, JPEG / JPEG-LS / RLE codecs (DCMTK 3.6.7)
  dcmtk             # dcmdump, dcmcjpeg…: an independent peer used by tests
  libopenjp2-7-dev  # JPEG 2000 (DCMTK's free edition has none)
  libturbojpeg0-dev # baseline JPEG fast path, preview images
  libhdf5-dev       # HDF5 shards
  hdf5-tools        # h5dump / h5ls for checking shards
  libdeflate-dev    # deflate for shards at levels 2-9, Adler-32, and all decompression (level 1 is our own encoder)
  libzstd-dev       # the zstd shard codec (HDF5 filter 32015)
  liblz4-dev        # the LZ4 shard codec (HDF5 filter 32004)
  libblosc-dev      # c-blosc 1.21: the training layout's codec (HDF5 filter 32001, docs/decisions.md 51)
  hdf5-filter-plugin # lets h5dump and other HDF5 tools read LZ4 shards (HDF5_PLUGIN_PATH)
  libsqlite3-dev    # SQLite for GRDB: the coordinator's journal (HounsfieldDistributed)
  gcc               # builds the Python reader's C chunk loop (Examples/python/hounsfield_patch.c) in the tests
  python3-venv      # venvs for the peer comparison (SimpleITK) in tests and benchmarks
  shellcheck        # scripts/check-examples.sh lints the example shell scripts (Examples/slurm)
  curl              # the daemon's HTTP tests upload studies with curl, a real client
  zip               # … and zip them (tar is part of every Debian system)
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: these Debian packages are missing and this user cannot install them: ${missing[*]}" >&2
    echo "setup: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq >/dev/null || ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "setup: apt-get could not install: ${missing[*]}" >&2
  echo "setup: check the network and the Debian sources, then run: apt-get install ${missing[*]}" >&2
  exit 1
fi
