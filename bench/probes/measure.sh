#!/bin/bash
# The probe programs (bench/probes/ZProbe.swift, registered as z_* examples): best of 3 warm
# runs each, $1 (a base build) and $2 (this build) alternated, NumPy's versions beside them.
# Run: bench/probes/measure.sh /path/to/base/tandem .build/release/tandem
cd "$(dirname "$0")/../.."
BASE=$1; NEW=$2
sec() { python3 -c 'import json,sys; print(round(json.load(sys.stdin)["seconds"]*1000,1))'; }
echo "# uptime: $(uptime)"
for e in ${PROBES:-z_nbody z_burgers z_jacobi z_softmax z_walks z_edges}; do
  $BASE example $e >/dev/null 2>&1; $NEW example $e >/dev/null 2>&1
  b=""; n=""
  for r in 1 2 3; do b="$b $($BASE example $e --json 2>/dev/null | sec)"; n="$n $($NEW example $e --json 2>/dev/null | sec)"; done
  p=""; for r in 1 2 3; do p="$p $(python3 bench/probes/probe.py $e | sec)"; done
  echo "$e ms: base[$b ] new[$n ] numpy[$p ]"
done
