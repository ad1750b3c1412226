#!/bin/bash
# Issue 17 point 10: a soak (resident memory over many syncs) and the six workloads with a
# competing CPU-bound process on one core, beside Numba under the same load.
# Run: swift build -c release --product tandem && bench/soak.sh
cd "$(dirname "$0")/.."
B=.build/release/tandem
echo "# uptime: $(uptime)"
echo "# soak"
$B overhead --soak 100000 | tail -3
run() {  # $1: label
  echo "== $1: tandem"
  $B bench --dtype f64 --repeats 3 --no-memory 2>&1 | grep -E "^(black|sor|red|shallow|nbody|gmm)"
  echo "== $1: numba"
  python3 bench/peers/run_peers.py --size medium --dtype f64 --peers numba --repeats 3 2>&1 | grep -iE "black|sor|shallow|nbody|gmm" | grep -v '^#'
}
run quiet
# One core taken by a busy loop for the whole measurement.
taskset -c 0 sh -c 'while :; do :; done' & LOAD=$!
sleep 1
run "loaded (a busy loop on core 0)"
kill $LOAD
