#!/bin/bash
# Instructions per iteration (callgrind, which does not move with the machine's load) of the
# small loops of `tandem overhead` and of cavity_flow's Poisson iteration, for Tandem ($BIN,
# default .build/release/tandem, forced to cpu-1 so that no placement exploration changes the
# path between runs) and NumPy: two runs differing only in length, the difference divided by
# the iterations between them. Kernels are compiled for AVX2 (valgrind does not decode AVX-512)
# into a cache folder of their own. Run: swift build -c release --product tandem && bench/micro/instructions.sh
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/release/tandem}
PY=$(python3 -c 'import sys; print(sys.executable)')     # the interpreter itself, not a shim
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
strip --strip-debug -o "$work/tandem" "$BIN"
printf '#!/bin/bash\nexec %s "$@" -march=x86-64-v3\n' "$(command -v clang || command -v cc)" > "$work/cc"; chmod +x "$work/cc"
export TANDEM_CC="$work/cc" TANDEM_CACHE_DIR="$work/cache" TANDEM_DEVICE=cpu-1 TANDEM_CALIBRATE_AFTER_EXIT=0 TANDEM_COMPILE_AFTER_EXIT=0
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | awk '/Collected/ {print $4}'; }
per() { echo $(( ($2 - $1) / $3 )); }
cat > "$work/loop.py" <<'PY'
import sys, numpy as np
read, count = sys.argv[1], int(sys.argv[2])
x = np.random.default_rng(1).uniform(0, 1, 1000)
for _ in range(count):
    x = x * 0.5 + 1
    if read == "sum": last = float(x.sum())
    elif read == "element": last = float(x[0])
PY
for r in sum element none; do
  "$work/tandem" overhead --read $r --iterations 10 > /dev/null 2>&1    # compiles, warm cache
  t=$(per "$(count "$work/tandem" overhead --read $r --iterations 2000)" "$(count "$work/tandem" overhead --read $r --iterations 6000)" 4000)
  n=$(per "$(count "$PY" "$work/loop.py" $r 2000)" "$(count "$PY" "$work/loop.py" $r 6000)" 4000)
  echo "x = x * 0.5 + 1, read: $r: tandem $t numpy $n instructions an iteration"
done
"$work/tandem" example cavity_flow steps=2 > /dev/null 2>&1
t=$(per "$(count "$work/tandem" example cavity_flow steps=20)" "$(count "$work/tandem" example cavity_flow steps=60)" 2000)
n=$(per "$(count "$PY" bench/examples/run_examples.py cavity_flow steps=20)" "$(count "$PY" bench/examples/run_examples.py cavity_flow steps=60)" 2000)
echo "cavity_flow n=41, per Poisson iteration: tandem $t numpy $n instructions"
