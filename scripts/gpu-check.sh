#!/usr/bin/env bash
# The GPU check of issue 4, in two halves.
#
#   scripts/gpu-check.sh build        here (Swift present): the static release binary -> .bin/tandem
#   scripts/gpu-check.sh run [STEP..] on the GPU machine (no Swift, no network; CuPy, JAX and
#                                     PyTorch installed): writes everything into $OUT
#
# Steps of `run` (all by default, in this order; each fits the device tool's 10-minute limit):
#   info      nvidia-smi, Python packages, `tandem devices --bandwidth`
#   selftest  `tandem selftest` (every planned kernel on the GPU against compiled C)
#   bench     `tandem bench` (medium, f64 and f32) with TANDEM_DEVICE=cuda, then =cpu; each row
#             names the device its kernels really ran on
#   peers     bench/peers/gpu_peers.py: CuPy, PyTorch, JAX on the same workloads and sizes,
#             plus the device-to-device copy bandwidth
#   summary   scripts/gpu_summary.py: one Markdown table for bench/RESULTS.md
#   opencl    with NVIDIA's OpenCL driver present: `tandem bench` with TANDEM_DEVICE=opencl
#             (the OpenCL device on a real GPU; `selftest` already checks its kernels). The ICD
#             loader is carried in .bin (libOpenCL.so.1) since the image may have none.
#   placement `tandem calibrate` (CPU and GPU profile), then `tandem placement-eval` warm and
#             --cold with the GPU among the options (issue 5); not in the default list: run it
#             as its own step (it needs several minutes)
#
# GPU_CHECK_SECONDS (default 450) is the whole run's budget: each step gets its own limit, cut
# to what is left, so the run ends inside the device tool's limit with everything written so
# far. Every step's files go into one folder and, after each step, into $OUT/gpu-check.tgz
# (the device tool brings back at most 8 files); the step log is printed as it goes.
#
# With the device tool: run `scripts/gpu-check.sh build` here, then
#   run(command: "scripts/gpu-check.sh run", carry: [".bin"])
# (.bin/ is ignored by git, so it must be carried). Results come back under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
shift || true

if [ "$mode" = build ]; then
    set -e
    swift build -c release --static-swift-stdlib --product tandem
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/tandem"
    mkdir -p .bin
    cp "$bin" .bin/tandem
    strip .bin/tandem 2>/dev/null || true
    # The OpenCL ICD loader (69 KB), for NVIDIA's OpenCL driver on a machine without one.
    for l in /usr/lib/x86_64-linux-gnu/libOpenCL.so.1; do [ -e "$l" ] && cp -L "$l" .bin/libOpenCL.so.1; done
    ls -l .bin/tandem
    echo "dynamic libraries (glibc only is expected):"
    ldd .bin/tandem || true
    exit 0
fi

if [ "$mode" != run ]; then
    echo "usage: $0 build | run [info selftest bench peers summary placement]" >&2
    exit 2
fi

OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
T="$PWD/.bin/tandem"
if [ ! -x "$T" ]; then
    echo "no $T: run '$0 build' on a machine with Swift and carry .bin" >&2
    exit 2
fi
W=/tmp/gpu-check
mkdir -p "$W"
export TANDEM_CACHE_DIR="${TANDEM_CACHE_DIR:-/tmp/tandem-gpu-check-cache}"
# No calibration after each process exits (minutes of device time); `placement` calibrates.
export TANDEM_CALIBRATE_AFTER_EXIT=0
export PYTHONUNBUFFERED=1
deadline=$(( $(date +%s) + ${GPU_CHECK_SECONDS:-450} ))
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(info selftest bench peers opencl summary)
status=0

# NVIDIA's OpenCL driver through the carried loader, when the driver is there.
nv_ocl=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [ -e "$d/libnvidia-opencl.so.1" ] && { nv_ocl="$d/libnvidia-opencl.so.1"; break; }
done
# The image registers PoCL alone (/etc/OpenCL/vendors/pocl.icd): a vendor folder naming NVIDIA's
# driver alone, read by the carried loader (ocl-icd honours OCL_ICD_VENDORS), puts the OpenCL
# device on the GPU (seen 2026-12-04; without it the `opencl` rows were PoCL on the host).
if [ -n "$nv_ocl" ] && [ -e "$PWD/.bin/libOpenCL.so.1" ] && ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
    mkdir -p "$W/icd" && echo "$nv_ocl" > "$W/icd/nvidia.icd"
    export OCL_ICD_VENDORS="$W/icd" TANDEM_OPENCL_LIBRARY="$PWD/.bin/libOpenCL.so.1"
fi

# limit SECONDS: the step's own limit, cut to what is left before the deadline.
limit() {
    local left=$(( deadline - $(date +%s) - 15 ))
    [ "$left" -lt "$1" ] && echo "$left" || echo "$1"
}
# step_run SECONDS CMD...: runs CMD under its limit; a step out of time is said, not hidden.
step_run() {
    local l; l=$(limit "$1"); shift
    if [ "$l" -lt 5 ]; then echo "(no time left for: $*)"; status=1; return 1; fi
    timeout -k 5 "$l" "$@"
    local rc=$?
    [ $rc -eq 124 ] && echo "(stopped after ${l}s: $*)"
    [ $rc -ne 0 ] && status=1
    return $rc
}
pack() { tar czf "$OUT/gpu-check.tgz" -C "$W" --exclude icd . 2>/dev/null || true; }

for step in "${steps[@]}"; do
    echo "=== $step ($(( deadline - $(date +%s) ))s left)"
    t0=$(date +%s)
    case "$step" in
    info)
        nvidia-smi > "$W/nvidia-smi.txt" 2>&1 || true
        {
            echo "nproc $(nproc)"; uname -a; ldd --version 2>&1 | head -n 1
            echo "--- compilers"; for c in cc gcc clang nvcc; do printf '%s: ' $c; command -v $c || echo none; done
            echo "--- libraries"; ldconfig -p | grep -E 'libcuda\.|libnvrtc|libOpenCL|libnvidia-opencl|libcublas\.|openblas|libblas' || true
            ls -l /usr/local/cuda/lib64/libnvrtc* 2>/dev/null || echo "no /usr/local/cuda/lib64/libnvrtc*"
            ls /etc/OpenCL/vendors 2>/dev/null || echo "no /etc/OpenCL/vendors"
            echo "OpenCL driver: ${nv_ocl:-none}; OCL_ICD_VENDORS=${OCL_ICD_VENDORS:-unset}"
        } > "$W/machine.txt" 2>&1
        cat "$W/machine.txt"
        step_run 30 python3 - > "$W/python-packages.txt" 2>&1 <<'PY'
import importlib
for name in ("numpy", "scipy", "cupy", "torch", "jax", "jaxlib"):
    try:
        m = importlib.import_module(name)
        print(name, getattr(m, "__version__", "?"))
    except Exception as e:
        print(name, "missing:", e)
PY
        step_run 60 "$T" devices --bandwidth > "$W/devices.txt" 2>&1
        cat "$W/devices.txt"
        ;;
    selftest)
        step_run 170 "$T" selftest > "$W/selftest.txt" 2>&1
        tail -n 3 "$W/selftest.txt"
        grep -E '^(FAIL|skipped)|^cuda:|^opencl:|large kernels' "$W/selftest.txt" | head -n 40
        ;;
    bench)
        for dev in cuda cpu; do
            TANDEM_DEVICE=$dev step_run 110 "$T" bench --size medium --dtype f64,f32 --repeats 3 --json \
                > "$W/bench-$dev.json" 2> "$W/bench-$dev.log"
            tail -n 4 "$W/bench-$dev.log"
        done
        ;;
    peers)
        step_run 150 python3 bench/peers/gpu_peers.py --size medium --dtype f64 --repeats 3 --bandwidth --json \
            > "$W/peers-f64.json" 2> "$W/peers-f64.log"
        step_run 60 python3 bench/peers/gpu_peers.py --size medium --dtype f32 --repeats 3 --json \
            > "$W/peers-f32.json" 2> "$W/peers-f32.log"
        tail -n 3 "$W/peers-f64.log" "$W/peers-f32.log"
        ;;
    opencl)
        if [ -z "$nv_ocl" ] && [ ! -d /etc/OpenCL/vendors ]; then
            echo "no OpenCL driver here"
        else
            step_run 20 "$T" devices > "$W/devices-opencl.txt" 2>&1
            grep '^opencl' "$W/devices-opencl.txt"
            TANDEM_DEVICE=opencl step_run 90 "$T" bench --size medium --dtype f64,f32 --repeats 3 --json \
                > "$W/bench-opencl.json" 2> "$W/bench-opencl.log"
            tail -n 4 "$W/bench-opencl.log"
        fi
        ;;
    summary)
        step_run 20 python3 scripts/gpu_summary.py "$W" > "$W/RESULTS-gpu.md" 2>&1
        cat "$W/RESULTS-gpu.md"
        ;;
    placement)
        TANDEM_CALIBRATE_AFTER_EXIT=1 step_run 200 "$T" calibrate > "$W/calibrate.txt" 2>&1
        cat "$W/calibrate.txt"
        step_run 150 "$T" placement-eval > "$W/placement-warm.md" 2> "$W/placement-warm.log"
        step_run 120 "$T" placement-eval --cold --repeats 3 > "$W/placement-cold.md" 2> "$W/placement-cold.log"
        tail -n 1 "$W/placement-warm.md" "$W/placement-cold.md"
        ;;
    *)
        echo "unknown step $step"
        status=2
        ;;
    esac
    echo "=== $step took $(( $(date +%s) - t0 ))s"
    pack
done
exit $status
