#!/bin/bash
# Two or more tandem binaries (with the n5b_* probe examples registered) on npbench programs
# (bench/probes/npbench_b.py, size S), alternated for R rounds; the least first and best rep of
# each, NumPy's least beside (bench/RESULTS.md, thirty-sixth session).
# Usage: bench/ab_npbench.sh "/path/a /path/b" "lu durbin adi" [R]
bins=$1; progs=$2; R=${3:-3}
cd "$(dirname "$0")/.."
for n in $progs; do
  for b in $bins; do : > /tmp/ab-$n-$(basename $b).txt; done
  for r in $(seq $R); do for b in $bins; do
    timeout 300 python3 bench/probes/npbench_b.py $n S --tandem $b 2>&1 | tail -1 >> /tmp/ab-$n-$(basename $b).txt
  done; done
  for b in $bins; do python3 - $n $b <<'P'
import json,os,sys
n,b=sys.argv[1:]
b=os.path.basename(b)
ds=[json.loads(l) for l in open('/tmp/ab-%s-%s.txt'%(n,b)) if l.strip()]
print('%-12s %-6s numpy first %.4f best %.4f | tandem first %.4f best %.4f  (firsts %s)'%(n,b,min(d['np_first'] for d in ds),min(d['np_best'] for d in ds),min(d['td_first'] for d in ds),min(d['td_best'] for d in ds),' '.join('%.3f'%d['td_first'] for d in ds)))
P
  done
done
