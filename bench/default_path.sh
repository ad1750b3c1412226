#!/bin/bash
# The measurements of bench/RESULTS.md, "The default path on programs nobody tuned for": the
# workloads (against $BASE when given), the examples gallery warm under each placement beside
# NumPy, first runs on an empty cache folder, and the read-every-iteration loop.
# Run: swift build -c release --product tandem && BASE=/path/to/other/tandem bench/default_path.sh
cd "$(dirname "$0")/.."
NEW=.build/release/tandem; BASE=${BASE:-}   # BASE: another build of tandem to compare with (optional)
echo "# uptime: $(uptime)"
for r in 1 2; do for b in $BASE $NEW; do [ -x "$b" ] || continue; echo "== workloads $b round $r"; $b bench --dtype f64,f32 --no-memory --repeats 3 2>&1 | grep -E "^(black|sor|red|shallow|nbody|gmm)"; done; done
echo "# examples (medium), warm cache"
for e in heat kmeans logistic_regression mandelbrot asian_option fir_filter life; do
  $NEW example $e >/dev/null 2>&1; TANDEM_DEVICE=cpu $NEW example $e >/dev/null 2>&1; TANDEM_DEVICE=cpu-1 $NEW example $e >/dev/null 2>&1
  for dev in auto cpu cpu-1; do
    best=999; for k in 1 2 3; do t=$(TANDEM_DEVICE=$dev $NEW example $e --json 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])'); best=$(python3 -c "print(min($best,$t))"); done
    echo "$e $dev $best"
  done
  np=$(python3 bench/examples/run_examples.py $e 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])')
  echo "$e numpy $np"
done
echo "# first run, empty cache folder (no profile, no kernels)"
for e in kmeans logistic_regression life asian_option; do
  rm -rf "${TMPDIR:-/tmp}/tandem-first-run"; t=$(TANDEM_CACHE_DIR="${TMPDIR:-/tmp}/tandem-first-run" $NEW example $e --json 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])')
  t2=$(TANDEM_CACHE_DIR="${TMPDIR:-/tmp}/tandem-first-run" $NEW example $e --json 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])')
  echo "$e first $t second $t2"
done
echo "# overhead"
for r in sum element none; do $NEW overhead --read $r; python3 bench/micro/overhead.py 1000 $r; done
