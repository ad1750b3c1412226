#!/bin/bash
# The padded-loop probe and the 16-body N-body, base and new builds, NumPy beside (eighteenth session).
# Run: BASE=/path/to/base/tandem bash bench/probes/pad.sh (probes registered in both builds).
cd "$(dirname "$0")/../.."
BASE=${BASE:-/tmp/tandem-5be9e44}; NEW=.build/release/tandem
sec() { python3 -c 'import json,sys; print(round(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"]*1000,1))'; }
for spec in "z_pad n=64 steps=200" "z_pad n=1000 steps=20" "nbody n=16 steps=200"; do
  e=${spec%% *}; args=${spec#"$e "}
  b=""; n=""; p=""
  for r in 1 2 3; do b="$b $(timeout 120 $BASE example $e $args --json 2>/dev/null | sec)"; n="$n $($NEW example $e $args --json 2>/dev/null | sec)"; done
  if [ $e = nbody ]; then for r in 1 2 3; do p="$p $(python3 bench/examples/run_examples.py $e $args | sec)"; done; else for r in 1 2 3; do p="$p $(python3 bench/probes/probe.py $e $args | sec)"; done; fi
  echo "$spec ms: base[$b ] new[$n ] numpy[$p ]"
done
n=""; for r in 1 2 3; do n="$n $($NEW example z_pad n=64 steps=2000 --json 2>/dev/null | sec)"; done
echo "z_pad n=64 steps=2000 ms: new[$n ] numpy[ $(python3 bench/probes/probe.py z_pad n=64 steps=2000 | sec) ] (base: one run, 84 s)"
