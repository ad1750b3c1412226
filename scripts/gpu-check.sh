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
#   placement `tandem calibrate` (CPU and GPU profile), then `tandem placement-eval` warm and
#             --cold with the GPU among the options (issue 5); not in the default list: run it
#             as its own step (it needs several minutes)
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
export TANDEM_CACHE_DIR="${TANDEM_CACHE_DIR:-/tmp/tandem-gpu-check-cache}"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(info selftest bench peers summary)
status=0

for step in "${steps[@]}"; do
    echo "=== $step" >&2
    case "$step" in
    info)
        nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
        python3 - > "$OUT/python-packages.txt" 2>&1 <<'PY' || true
import importlib
for name in ("numpy", "scipy", "cupy", "torch", "jax", "jaxlib"):
    try:
        m = importlib.import_module(name)
        print(name, getattr(m, "__version__", "?"))
    except Exception as e:
        print(name, "missing:", e)
PY
        "$T" devices --bandwidth 2>&1 | tee "$OUT/devices.txt" || status=1
        ;;
    selftest)
        "$T" selftest > "$OUT/selftest.txt" 2>&1 || status=1
        tail -n 3 "$OUT/selftest.txt"
        grep -E '^FAIL' "$OUT/selftest.txt" | head -n 40 || true
        ;;
    bench)
        for dev in cuda cpu; do
            TANDEM_DEVICE=$dev "$T" bench --size medium --dtype f64,f32 --repeats 5 --json \
                > "$OUT/bench-$dev.json" 2> "$OUT/bench-$dev.log" || status=1
            tail -n 2 "$OUT/bench-$dev.log"
        done
        ;;
    peers)
        python3 bench/peers/gpu_peers.py --size medium --dtype f64 --repeats 5 --bandwidth --json \
            > "$OUT/peers-f64.json" 2> "$OUT/peers-f64.log" || status=1
        python3 bench/peers/gpu_peers.py --size medium --dtype f32 --repeats 5 --json \
            > "$OUT/peers-f32.json" 2> "$OUT/peers-f32.log" || status=1
        tail -n 3 "$OUT/peers-f64.log" "$OUT/peers-f32.log"
        ;;
    summary)
        python3 scripts/gpu_summary.py "$OUT" | tee "$OUT/RESULTS-gpu.md" || status=1
        ;;
    placement)
        "$T" calibrate > "$OUT/calibrate.txt" 2>&1 || status=1
        cat "$OUT/calibrate.txt"
        "$T" placement-eval --json > "$OUT/placement-warm.json" 2> "$OUT/placement-warm.log" || status=1
        "$T" placement-eval > "$OUT/placement-warm.md" 2>> "$OUT/placement-warm.log" || status=1
        "$T" placement-eval --cold --repeats 3 > "$OUT/placement-cold.md" 2> "$OUT/placement-cold.log" || status=1
        tail -n 1 "$OUT/placement-warm.md" "$OUT/placement-cold.md"
        ;;
    *)
        echo "unknown step $step" >&2
        status=2
        ;;
    esac
done
exit $status
