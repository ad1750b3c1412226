#!/usr/bin/env python3
"""NumPy's side of `tandem overhead`: x = x * 0.5 + 1 on a small vector, read every iteration."""
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/peers")
from reference import uniform  # noqa: E402  (the same counter-based inputs as Tandem's)

if len(sys.argv) > 2 and sys.argv[1] == "--rows":
    # `tandem overhead --rows N`: a reduction written into each row.
    rows = int(sys.argv[2])
    print(f"out[i, :] = x[i].sum(axis=1), x of shape [{rows}, 64, 16], {rows} rows")
    for _ in range(2):
        x = uniform(1, rows * 64 * 16, 0.0, 1.0).reshape(rows, 64, 16)
        out = np.zeros((rows, 64))
        start = time.perf_counter()
        for i in range(rows):
            out[i, :] = x[i].sum(axis=1)
        total = float(out.sum())
        print(f"  {(time.perf_counter() - start) * 1e3:.2f} ms, total {total}")
    sys.exit(0)

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
read = sys.argv[2] if len(sys.argv) > 2 else "sum"
print(f"x = x * 0.5 + 1 on {n} doubles, read: {read}")
for count in (100, 1000, 10000):
    x = uniform(1, n, 0.0, 1.0)
    start = time.perf_counter()
    for _ in range(count):
        x = x * 0.5 + 1
        if read == "sum":
            last = float(x.sum())
        elif read == "element":
            last = float(x[0])
    seconds = time.perf_counter() - start
    print(f"  {count} iterations: {seconds / count * 1e6:.2f} µs an iteration")
