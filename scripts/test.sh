#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the optional suites use when it can
# (root with apt-get: OpenBLAS for the BLAS path of matmul; the OpenCL ICD loader and PoCL, an
# OpenCL driver on the CPU's cores, for the OpenCL device's suites; Open MPI, whose `mpirun` the
# distributed suites start with 1 to 4 ranks on this machine), then runs every test.
# Without those packages the same suites check the fallbacks instead; nothing is skipped silently:
# `tandem devices` and the test output say what was found.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas0-pthread ocl-icd-libopencl1 pocl-opencl-icd openmpi-bin libopenmpi-dev)
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
if ! command -v mpirun >/dev/null; then
    echo "test.sh: no mpirun (openmpi-bin, libopenmpi-dev; installed only when run as root with apt-get): the distributed suites under mpirun are skipped"
fi
# Open MPI's mpirun refuses to start as root unless both are set (CI runs as root); the
# distributed tests set them too, for a plain `swift test`.
if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# A test process or a CLI run by a test that exits before its machine calibration finished
# would hand the calibration on to a detached copy of itself (Calibration.handOffAtExit): none
# is wanted after the suite, and the one test of the hand-off turns it on for its own run.
export TANDEM_CALIBRATE_AFTER_EXIT=0
# A hung test must fail fast and say which tests were in flight, not run to CI's own limit:
# the whole run (build included; about 10 minutes on a fresh 2-core machine) has
# TANDEM_TEST_TIMEOUT seconds (30 minutes unless set).
limit=${TANDEM_TEST_TIMEOUT:-1800}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timeout --kill-after=30 "$limit" swift test "$@" 2>&1 | tee "$log" || status=$?
if (( status == 124 || status == 137 )); then
    echo "test.sh: the tests ran past ${limit} s and were stopped; started and not finished:"
    # Swift Testing says `Test "name" started.` and then, once, passed/failed/skipped with the name.
    awk '/ Test case passing / { next }
         / Test .* started\.$/ { n = $0; sub(/^[^ ]* Test /, "", n); sub(/ started\.$/, "", n); s[n] = 1; next }
         / Test / { for (k in s) if (index($0, " Test " k " ")) delete s[k] }
         END { for (k in s) print "  " k }' "$log"
fi
exit "$status"
