#!/usr/bin/env python3
"""NumPy's side of `tandem matmul`: an n x n product with NumPy's BLAS, best of several runs."""
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/peers")
from reference import uniform  # noqa: E402  (the same counter-based inputs as Tandem's)

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
dtype = np.float32 if len(sys.argv) > 3 and sys.argv[3] == "float" else np.float64
a = uniform(1, n * n, -1.0, 1.0).reshape(n, n).astype(dtype)
b = uniform(2, n * n, -1.0, 1.0).reshape(n, n).astype(dtype)
print(f"numpy {np.__version__} matmul of two {n} x {n} {np.dtype(dtype).name} matrices")
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    c = a @ b
    seconds = time.perf_counter() - start
    best = min(best, seconds)
    print(f"  {seconds * 1e3:.2f} ms, {2 * n ** 3 / seconds / 1e9:.2f} GFLOP/s, c[0, 0] = {c[0, 0]}")
print(f"best {best * 1e3:.2f} ms")
