#!/bin/bash
# Thin and matrix-vector products (the z_thin probe): x @ w and x.T @ g in µs, for a base build
# and this one (best of 3 runs, each the best of 50 synced products) and NumPy, as a table.
# Both builds need the probes registered (README.md). Run: bench/probes/thin.sh BASE NEW
cd "$(dirname "$0")/../.."
B=$1; N=$2
get() { $1 example z_thin $2 --json 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); o=d["outputs"]; print("%.1f %.1f" % (o["xw_us"], o["xtg_us"]))'; }
echo "# uptime: $(uptime)"
for s in "n=20000 d=10 k=5" "n=2000 d=10 k=5" "n=300 d=10 k=5" "n=500 d=8 k=8" "n=1000 d=64 k=16" "n=100000 d=20 k=3" "n=20000 d=10 mode=2" "n=2000 d=100 mode=2" "n=1000 d=1000 mode=2" "n=100000 d=3 mode=2"; do
  $B example z_thin $s >/dev/null 2>&1; $N example z_thin $s >/dev/null 2>&1
  bb=""; nn=""
  for r in 1 2 3; do bb+=" $(get $B "$s")"; nn+=" $(get $N "$s")"; done
  np=$(python3 bench/probes/probe.py z_thin $s | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("%.1f %.1f" % (d["xw_us"], d["xtg_us"]))')
  python3 - "$s" "$bb" "$nn" "$np" <<'PY'
import sys
s,bb,nn,np=sys.argv[1:]
def best(t):
    v=[float(x) for x in t.split()]; return min(v[0::2]), min(v[1::2])
b=best(bb); n=best(nn); p=[float(x) for x in np.split()]
print(f"| {s} | {b[0]:.1f} / {b[1]:.1f} | {n[0]:.1f} / {n[1]:.1f} | {p[0]:.1f} / {p[1]:.1f} |")
PY
done
