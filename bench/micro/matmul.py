#!/usr/bin/env python3
"""NumPy's side of `tandem matmul`: an n x n product with NumPy's BLAS, best of several runs.

Arguments: n, repeats, "float" or "double", and "vector" for `tandem matmul --vector`'s
matrix-vector and vector-matrix products (a @ v, v @ a)."""
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
vector = len(sys.argv) > 4 and sys.argv[4] == "vector"
flops = 2 * n * n * (1 if vector else n)


def best(what, product):
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        c = product()
        seconds = time.perf_counter() - start
        fastest = min(fastest, seconds)
        print(f"  {what}: {seconds * 1e3:.2f} ms, {flops / seconds / 1e9:.2f} GFLOP/s, first element {c.flat[0]}")
    print(f"best {what} {fastest * 1e3:.2f} ms")


if vector:
    v = b[0].copy()
    print(f"numpy {np.__version__} matmul of an {n} x {n} matrix and a vector of {n} {np.dtype(dtype).name}")
    best("a @ v", lambda: a @ v)
    best("v @ a", lambda: v @ a)
else:
    print(f"numpy {np.__version__} matmul of two {n} x {n} {np.dtype(dtype).name} matrices")
    best("a @ b", lambda: a @ b)
