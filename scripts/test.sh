#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the optional suites use when it can
# (root with apt-get: OpenBLAS for the BLAS path of matmul; the OpenCL ICD loader and PoCL, an
# OpenCL driver on the CPU's cores, for the OpenCL device's suites), then runs every test.
# Without those packages the same suites check the fallbacks instead; nothing is skipped silently:
# `tandem devices` and the test output say what was found.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas0-pthread ocl-icd-libopencl1 pocl-opencl-icd)
if [[ ${EUID:-$(id -u)} -eq 0 ]] && command -v apt-get >/dev/null; then
    missing=()
    for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if (( ${#missing[@]} > 0 )); then
        echo "test.sh: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } \
            || echo "test.sh: could not install ${missing[*]}; the suites that use them test the fallbacks"
    fi
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so\.1' || ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    echo "test.sh: no OpenCL loader or driver (ocl-icd-libopencl1, pocl-opencl-icd; installed only when run as root with apt-get): the OpenCL suites are skipped"
fi
# A test process or a CLI run by a test that exits before its machine calibration finished
# would hand the calibration on to a detached copy of itself (Calibration.handOffAtExit): none
# is wanted after the suite, and the one test of the hand-off turns it on for its own run.
export TANDEM_CALIBRATE_AFTER_EXIT=0
swift test "$@"
