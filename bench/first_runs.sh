#!/bin/bash
# First, second and third runs of the examples gallery on an empty cache folder (no machine profile,
# no kernels), beside NumPy's time for the same program, for $BASE (optional) and this build.
# Run: swift build -c release --product tandem && BASE=/path/to/other/tandem bench/first_runs.sh [examples...]
# FIRST_ONLY=N: only first runs, N of each, the builds alternating, nothing handed on at exit
# (no calibration or compiles left running into the next measurement), NumPy's N times after.
cd "$(dirname "$0")/.."
NEW=.build/release/tandem; BASE=${BASE:-}
EXAMPLES=${*:-heat life kmeans logistic_regression asian_option cavity_flow mandelbrot fir_filter}
seconds() { python3 -c 'import json,sys; print(round(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"], 3))'; }
echo "# uptime: $(uptime)"
dir="${TMPDIR:-/tmp}/tandem-first-run"
if [ -n "${FIRST_ONLY:-}" ]; then
  for e in $EXAMPLES; do
    declare -A times=()
    for r in $(seq "$FIRST_ONLY"); do
      for b in $BASE $NEW; do
        [ -x "$b" ] || continue
        rm -rf "$dir"
        times[$b]+=" $(TANDEM_CACHE_DIR="$dir" TANDEM_CALIBRATE_AFTER_EXIT=0 TANDEM_COMPILE_AFTER_EXIT=0 $b example $e --json 2>/dev/null | seconds)"
      done
    done
    for b in $BASE $NEW; do [ -x "$b" ] && echo "$e $b first:${times[$b]}"; done
    numpy=""
    for r in $(seq "$FIRST_ONLY"); do numpy+=" $(python3 bench/examples/run_examples.py $e 2>/dev/null | seconds)"; done
    echo "$e numpy:$numpy"
    unset times
  done
  rm -rf "$dir"
  exit 0
fi
for e in $EXAMPLES; do
  for b in $BASE $NEW; do
    [ -x "$b" ] || continue
    rm -rf "$dir"
    t1=$(TANDEM_CACHE_DIR="$dir" $b example $e --json 2>/dev/null | seconds)
    t2=$(TANDEM_CACHE_DIR="$dir" $b example $e --json 2>/dev/null | seconds)
    sleep 3   # compiles handed on at exit finish meanwhile
    t3=$(TANDEM_CACHE_DIR="$dir" $b example $e --json 2>/dev/null | seconds)
    echo "$e $b first $t1 second $t2 third $t3"
  done
  echo "$e numpy $(python3 bench/examples/run_examples.py $e 2>/dev/null | seconds)"
done
rm -rf "$dir"
