#!/bin/sh
# Builds and runs the DICOM receiver's smoke test (receiver_smoke.cpp) with a C++ compiler alone, outside SwiftPM: the receiver
# (Sources/CDCMTKShim/hf_receiver.cpp) against DCMTK's command-line tools (Debian packages libdcmtk-dev and dcmtk).
#
#   Tests/native/build-receiver-smoke.sh [TESTDATA]     TESTDATA defaults to ../shared/testdata beside the repository
#
# The binary goes to ${BUILD:-/tmp/hf-receiver-smoke-build}/receiver_smoke. Set HF_SMOKE_BUILD_ONLY=1 to build only,
# SANITIZE=address,undefined or SANITIZE=thread to build with sanitizers (both ran clean).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
testdata=${1:-$root/../shared/testdata}
build=${BUILD:-/tmp/hf-receiver-smoke-build}
shim=$root/Sources/CDCMTKShim
mkdir -p "$build"

# The same define as Package.swift's CDCMTKShim target; libraries linked by name (Debian 12's dcmtk.pc is broken).
# hf_common.cpp (error formatting) registers the codecs, hence the codec libraries.
# The Swift toolchain's clang++ (always there: SwiftPM compiles the shim with it), else g++; CXX overrides.
cxx=${CXX:-$(command -v clang++ || command -v g++)}
"$cxx" -std=c++17 -O1 -g -Wall -Wextra ${SANITIZE:+-fsanitize=$SANITIZE -fno-omit-frame-pointer} \
    -DHAVE_CONFIG_H=0 -pthread -I"$shim/include" \
    "$root/Tests/native/receiver_smoke.cpp" "$shim/hf_receiver.cpp" "$shim/hf_common.cpp" \
    -o "$build/receiver_smoke" \
    -ldcmnet -ldcmjpls -ldcmtkcharls -ldcmjpeg -lijg8 -lijg12 -lijg16 -ldcmimgle -ldcmdata -loflog -lofstd -lz

[ "${HF_SMOKE_BUILD_ONLY:-0}" = 1 ] && exit 0
for tool in echoscu storescu dcmdump dcmcjpeg dcmcjpls dcmcrle; do
    command -v "$tool" >/dev/null || { echo "missing DCMTK tool $tool (apt-get install dcmtk)" >&2; exit 1; }
done
exec timeout 600 "$build/receiver_smoke" "$testdata"
