#!/bin/bash
# Same-run: each medium workload, f64 and f32, forced cpu vs forced opencl, warm (one run first), best of 2.
cd "$(dirname "$0")/.."
B=${B:-.build/release/tandem}   # swift build -c release --product tandem; B=<binary> for another build
export TANDEM_CALIBRATE_AFTER_EXIT=0
for dt in f64 f32; do
for w in "black_scholes n=1000000 iterations=4" "sor n=256 max_iterations=200 epsilon=0" "red_black_sor n=256 iterations=100 omega=1.5" "shallow_water n=256 steps=100" "nbody n=2000 steps=10" "gmm_em n=100000 d=8 k=16 iterations=10"; do
  for d in cpu opencl; do TANDEM_DEVICE=$d $B run $w --dtype $dt >/dev/null 2>&1; done
  res=""
  for d in cpu opencl; do
    best=999
    for i in 1 2; do
      out=$(TANDEM_DEVICE=$d $B run $w --dtype $dt --check --json 2>/dev/null)
      t=$(echo "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["seconds"], j["check"])')
      s=${t% *}; c=${t#* }
      best=$(python3 -c "print(min($best, $s))")
    done
    res="$res $d=$best($c)"
  done
  echo "$dt ${w%% *} $res"
done; done
