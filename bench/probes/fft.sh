#!/bin/bash
# The FFT probe (`z_fft`: `rows` transforms of `n` points, best of 5 in-process, ms) for two builds
# alternated, three runs each, NumPy's pocketfft beside. Run: bench/probes/fft.sh BASE NEW
# (both built with the probes registered: README.md). Twentieth session.
cd "$(dirname "$0")/../.."
BASE=$1; NEW=$2
ms() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); o=d.get("outputs",d); print(round(o["fft_ms"],2))'; }
echo "# $(uptime)"
for args in "n=1048576 rows=1" "n=1000000 rows=1" "n=1024 rows=1000" "n=1000 rows=1000" "n=997 rows=1000" "n=256 rows=256" "n=128 rows=128"; do
  b=""; n=""; for r in 1 2 3; do b="$b $($BASE example z_fft $args --json | ms)"; n="$n $($NEW example z_fft $args --json | ms)"; done
  p=""; for r in 1 2; do p="$p $(python3 bench/probes/probe.py z_fft $args | ms)"; done
  echo "$args: base[$b ] new[$n ] numpy[$p ]"
done
