#!/bin/bash
# The measurements of bench/RESULTS.md, "Operations computed at once" (issues 14/15, thirty-fourth
# session): npbench's element-at-a-time and time-stepped programs (bench/probes/npbench_b.py,
# the n5b_* probe examples registered in the binaries), first and best rep, NumPy beside, two
# binaries alternated; then warm gallery examples on small grids and the overhead loops.
# Usage: bench/eager.sh BASE NEW [programs...]
BASE=$1; NEW=$2; shift 2
cd "$(dirname "$0")/.."
echo "# uptime: $(uptime)"
progs=${*:-"lu cholesky durbin ludcmp trisolv gramschmidt seidel_2d nussinov adi channel_flow cavity_flow nbody"}
for n in $progs; do
  for b in $BASE $NEW; do
    timeout 300 python3 bench/probes/npbench_b.py $n S --tandem $b 2>&1 | tail -1 | python3 -c "
import json,sys; d=json.loads(sys.stdin.read())
print('%-14s %-10s numpy first %.4f best %.4f | tandem first %.4f best %.4f | maxrel %.1e' % ('$n', '$(basename $b)', d['np_first'], d['np_best'], d['td_first'], d['td_best'], d['maxrel']))"
  done
done
echo "# warm gallery examples, best of 3, alternated"
bash bench/ab_examples.sh $BASE $NEW "heat n=24" "life n=64 steps=200" "cavity_flow n=21" "kmeans" "nbody" "logistic_regression"
echo "# overhead loops (x = x * 0.5 + 1 on 1000 doubles)"
for b in $BASE $NEW; do for r in sum element none; do echo "$(basename $b) $r: $($b overhead --read $r 2>&1 | grep -E 'iterations:' | tail -1)"; done; done
