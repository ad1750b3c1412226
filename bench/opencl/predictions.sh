#!/bin/bash
# Predicted against measured OpenCL kernel time on the six medium workloads (issue 18's target:
# within 2x), forced to OpenCL, second run of each (programs cached). Uses the machine profile of
# TANDEM_CACHE_DIR: run `tandem calibrate` with the same TANDEM_CACHE_DIR first (the full
# calibration measures the OpenCL device). DT=f32 for float32; B=<binary> for another build.
cd "$(dirname "$0")/../.."
B=${B:-.build/release/tandem}
export TANDEM_CALIBRATE_AFTER_EXIT=0
for w in "black_scholes n=1000000 iterations=4" "sor n=256 max_iterations=200 epsilon=0" "red_black_sor n=256 iterations=100 omega=1.5" "shallow_water n=256 steps=100" "nbody n=2000 steps=10" "gmm_em n=100000 d=8 k=16 iterations=10"; do
  TANDEM_DEVICE=opencl $B run $w ${DT:+--dtype $DT} >/dev/null 2>&1
  TANDEM_DEVICE=opencl $B run $w ${DT:+--dtype $DT} --check --json 2>/dev/null | python3 -c "
import json,sys; j=json.load(sys.stdin)
p=j['predicted_kernel_seconds']; m=j['measured_kernel_seconds']
print(f\"{j['workload']:14s} kernels {j['kernels']:4d} predicted {p:.4f} measured {m:.4f} ratio {p/m if m else float('nan'):.2f} check {j['check']}\")"
done
