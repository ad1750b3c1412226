#!/bin/bash
# The measurements of bench/RESULTS.md, "Many small kernels" (issue 15): the per-iteration
# overhead loop and the row-write loop beside NumPy, time-stepped examples on small grids beside
# NumPy, and the standard workloads against $BASE (another build, to show large arrays kept
# their speed). Run: swift build -c release --product tandem && BASE=/path/to/tandem bench/small_kernels.sh
cd "$(dirname "$0")/.."
NEW=.build/release/tandem; BASE=${BASE:-}
seconds() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])'; }
echo "# uptime: $(uptime)"
echo "# overhead: x = x * 0.5 + 1 on 1000 doubles"
for r in sum element none; do $NEW overhead --read $r; python3 bench/micro/overhead.py 1000 $r; done
echo "# row writes"
$NEW overhead --rows 1600; python3 bench/micro/overhead.py --rows 1600
echo "# time-stepped examples (best of 3, warm), auto and NumPy; small grids and medium"
for spec in "heat" "heat n=24" "life" "life n=64 steps=200" "cavity_flow" "cavity_flow n=21"; do
  e=${spec%% *}; args=${spec#"$e"}
  $NEW example $e $args >/dev/null 2>&1
  best=999; for k in 1 2 3; do t=$($NEW example $e $args --json 2>/dev/null | seconds); best=$(python3 -c "print(min($best,$t))"); done
  np=999; for k in 1 2 3; do t=$(python3 bench/examples/run_examples.py $e $args 2>/dev/null | seconds); np=$(python3 -c "print(min($np,$t))"); done
  echo "$spec: tandem $best numpy $np"
done
for r in 1 2; do for b in $BASE $NEW; do [ -x "$b" ] || continue; echo "== workloads $b round $r"; $b bench --dtype f64 --no-memory --repeats 3 2>&1 | grep -E "^(black|sor|red|shallow|nbody|gmm)"; done; done
