#!/bin/bash
# Issue 14's "auto within 1.1x of the best forced placement from the second run on": the examples
# gallery at its medium size, warm (after one run under each placement), best of 3 under auto,
# cpu (all workers) and cpu-1 (one worker), beside NumPy's time for the same program.
# Run: swift build -c release --product tandem && bench/auto_vs_forced.sh [examples...]
cd "$(dirname "$0")/.."
NEW=.build/release/tandem
EXAMPLES=${*:-heat kmeans logistic_regression mandelbrot asian_option fir_filter life cavity_flow}
seconds() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"])'; }
echo "# uptime: $(uptime)"
for e in $EXAMPLES; do
  $NEW example $e >/dev/null 2>&1; TANDEM_DEVICE=cpu $NEW example $e >/dev/null 2>&1; TANDEM_DEVICE=cpu-1 $NEW example $e >/dev/null 2>&1
  line="$e"
  for dev in auto cpu cpu-1; do
    best=999; for k in 1 2 3; do t=$(TANDEM_DEVICE=$dev $NEW example $e --json 2>/dev/null | seconds); best=$(python3 -c "print(min($best,$t))"); done
    line="$line $dev $(python3 -c "print(round($best,3))")"
  done
  echo "$line numpy $(python3 bench/examples/run_examples.py $e 2>/dev/null | seconds | python3 -c 'import sys; print(round(float(sys.stdin.read()),3))')"
done
