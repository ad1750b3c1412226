#!/bin/bash
# Loops without reads (eighteenth session): the N-body example at three sizes (warm,
# best of 3, with its plan cache's hits and misses), the periodic-diffusion-by-rolls probe
# (z_roll) at three sizes and the 1-D rolled stencil (z_burgers), two builds alternated, NumPy's
# versions beside. Both builds need the probes registered (bench/probes/README.md) and the
# nbody example. Run: bench/probes/loops.sh /path/to/base/tandem .build/release/tandem
cd "$(dirname "$0")/../.."
BASE=$1; NEW=$2
sec() { python3 -c 'import json,sys; print(round(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"]*1000,1))'; }
plans() { TANDEM_PROFILE=1 "$@" 2>&1 | grep -o 'hits [0-9]*, misses [0-9]*' | head -1; }
echo "# uptime: $(uptime)"
run() {   # name, tandem example args..., then numpy command after --
  local label=$1; shift
  local targs=() ; while [ "$1" != "--" ]; do targs+=("$1"); shift; done; shift
  $BASE example "${targs[@]}" >/dev/null 2>&1; $NEW example "${targs[@]}" >/dev/null 2>&1
  local b="" n="" p=""
  for r in 1 2 3; do b="$b $($BASE example "${targs[@]}" --json 2>/dev/null | sec)"; n="$n $($NEW example "${targs[@]}" --json 2>/dev/null | sec)"; done
  for r in 1 2 3; do p="$p $("$@" | sec)"; done
  echo "$label ms: base[$b ] new[$n ] numpy[$p ] plans base: $(plans $BASE example "${targs[@]}") new: $(plans $NEW example "${targs[@]}")"
}
run "nbody n=256 steps=100" nbody -- python3 bench/examples/run_examples.py nbody
run "nbody n=64 steps=100" nbody n=64 steps=100 -- python3 bench/examples/run_examples.py nbody n=64 steps=100
run "nbody n=16 steps=200" nbody n=16 steps=200 -- python3 bench/examples/run_examples.py nbody n=16 steps=200
run "z_roll n=64 steps=2000" z_roll n=64 steps=2000 -- python3 bench/probes/probe.py z_roll n=64 steps=2000
run "z_roll n=1000 steps=20" z_roll n=1000 steps=20 -- python3 bench/probes/probe.py z_roll n=1000 steps=20
run "z_roll n=4000 steps=5" z_roll n=4000 steps=5 -- python3 bench/probes/probe.py z_roll n=4000 steps=5
run "z_burgers n=256 steps=2000" z_burgers -- python3 bench/probes/probe.py z_burgers
