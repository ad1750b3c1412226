#!/usr/bin/env python3
"""NumPy's side of `tandem host-ops`: the same functions on the same sizes, best of `repeats`.

  python3 bench/micro/host_ops.py [n] [repeats]
"""
import sys
import time

import numpy as np


def best(fn, repeats):
    t = float("inf")
    for _ in range(repeats):
        s = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - s)
    return t


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, n)
    f = x.astype(np.float32)
    codes = (x * 100 + 100).astype(np.int64)
    small = (x * 100 + 100).astype(np.uint8)
    positions = ((x + 1) * 0.5 * (n - 1)).astype(np.int64)

    def add_at():
        y = np.zeros(n)
        np.add.at(y, positions, x)

    def write():
        y = np.zeros(n)
        y[positions] = x
    rows = [
        ("sorted f64", lambda: np.sort(x)),
        ("sorted f32", lambda: np.sort(f)),
        ("sorted i64", lambda: np.sort(codes)),
        ("argsort f64", lambda: np.argsort(x, kind="stable")),
        ("percentile f64", lambda: np.percentile(x, 90)),
        ("cumsum f64", lambda: np.cumsum(x)),
        ("cumsum i64", lambda: np.cumsum(codes)),
        ("histogram f64", lambda: np.histogram(x, bins=50)),
        ("bincount i64", lambda: np.bincount(codes)),
        ("bincount u8", lambda: np.bincount(small)),
        ("add(at:) f64", add_at),
        ("x[idx] = v f64", write),
        ("take f64", lambda: np.take(x, positions)),
        ("x[mask] f64", lambda: x[x > 0.0]),
        ("nonzero", lambda: np.nonzero(x > 0.0)),
    ]
    for name, fn in rows:
        print(f"{name:<16}{round(best(fn, repeats), 4)} s")


if __name__ == "__main__":
    main()
