#!/bin/bash
# cumsum and sort along an axis (the z_scan probe), ms, best of 5 synced calls, for a base build
# and this one, NumPy beside. Both builds need the probes registered (README.md).
# Run: bench/probes/scan.sh BASE NEW
cd "$(dirname "$0")/../.."
B=$1; N=$2
get() { $1 example z_scan $2 --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read())["outputs"]; print("%.2f / %.2f" % (d["cumsum_ms"], d["sort_ms"]))'; }
echo "# uptime: $(uptime)"
for s in "rows=1000 cols=1000 axis=2" "rows=1000 cols=1000 axis=1" "rows=1 cols=1000000 axis=2" "rows=10000 cols=100 axis=2" "rows=100 cols=10000 axis=2"; do
  np=$(python3 bench/probes/probe.py z_scan $s | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("%.2f / %.2f" % (d["cumsum_ms"], d["sort_ms"]))')
  echo "| $s | $(get $B "$s") | $(get $N "$s") | $np |"
done
