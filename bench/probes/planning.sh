#!/bin/bash
# Planning time per graph node with the plan cache off (every sync plans from scratch: what a
# first run, a graph that never repeats and every plan-cache miss pay), best of 3 runs each, for
# several gallery programs. Run: bench/probes/planning.sh [path/to/tandem]   (twentieth session)
cd "$(dirname "$0")/../.."
B=${1:-.build/release/tandem}
for args in "cavity_flow n=21" "heat n=24" "nbody" "softmax_regression" "life n=64" "allen_cahn" "kmeans"; do
  best=999
  for r in 1 2 3; do
    v=$(TANDEM_PLAN_CACHE=off TANDEM_PROFILE=1 $B example $args 2>&1 | grep -o "planning [0-9.]* s, [0-9]* nodes, [0-9.]* µs a node" | awk '{print $6}')
    best=$(python3 -c "print(min($best, $v))")
  done
  echo "$args: $best us/node"
done
