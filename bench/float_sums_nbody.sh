#!/bin/bash
# N-body float32: the rules against reordered float sums (TANDEM_TUNE=on,reorder) and Numba's expert
# peer, alternated (bench/RESULTS.md, thirty-first session). Uses a scratch cache with this
# machine's profile copied in.
cd "$(dirname "$0")/.."
B=${B:-.build/release/tandem}
rm -rf /tmp/nb && mkdir -m 700 /tmp/nb && cp ~/.cache/tandem/machine-profile.json /tmp/nb/
export TANDEM_CACHE_DIR=/tmp/nb TANDEM_CALIBRATE_AFTER_EXIT=0
date; uptime
$B tune nbody n=8192 steps=4 --dtype f32 --reorder --mode on 2>&1 | grep "2^26"
for i in 1 2 3; do
  uptime | sed 's/.*load/load/'
  python3 bench/peers/run_peers.py --size medium --dtype f32 --peers numba --workloads nbody --repeats 5 2>&1 | tail -1
  for t in off on,reorder; do echo -n "$t: "; for j in 1 2 3; do TANDEM_TUNE=$t $B run nbody n=8192 steps=4 --dtype f32 2>&1 | grep -E "^  time" | awk '{printf "%s ", $2}'; done; echo; done
done
TANDEM_TUNE=off $B run nbody n=8192 steps=4 --dtype f32 2>&1 | grep kinetic
TANDEM_TUNE=on,reorder $B run nbody n=8192 steps=4 --dtype f32 2>&1 | grep kinetic
date; uptime
