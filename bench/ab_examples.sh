#!/bin/bash
# A/B two tandem binaries on warm examples: best of 3, the two alternated twice (bench/RESULTS.md,
# twenty-fourth session). Usage: bench/ab_examples.sh BIN_A BIN_B "heat n=24" "life n=64 steps=200" ...
A=$1; B=$2; shift 2
seconds() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seconds"])'; }
for spec in "$@"; do
  e=${spec%% *}; args=${spec#"$e"}
  line="$spec:"
  for r in 1 2; do for b in $A $B; do
    $b example $e $args >/dev/null 2>&1
    best=999; for k in 1 2 3; do t=$($b example $e $args --json 2>/dev/null | seconds); best=$(python3 -c "print(min($best,$t))"); done
    line="$line $(basename $b)=$(printf %.4f $best)"
  done; done
  echo "$line"
done
