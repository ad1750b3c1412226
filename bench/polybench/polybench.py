#!/usr/bin/env python3
"""PolyBench/C 4.2.1 kernels in NumPy, the definitions of Sources/TandemWorkloads/PolyBench.swift
(PolyBench's initialisations and dataset sizes), written as an expert writes NumPy: whole-array
operations where the loops allow, a Python loop only over what carries a dependence.

    python3 bench/polybench/polybench.py [--size mini|small|medium|large] [--dtype f64|f32] [--kernels gemm,atax] [--json]

Prints each kernel's time (best of --repeats, initialisation excluded) and its outputs (`checksum`:
the sum of the output array, `corner`: its first element), which the tests' check values came from.
"""
import argparse, json, sys, time
import numpy as np

SIZES = ["mini", "small", "medium", "large"]

def params(kernel, size):
    i = SIZES.index(size)
    return {
        "gemm": dict(ni=[20, 60, 200, 1000][i], nj=[25, 70, 220, 1100][i], nk=[30, 80, 240, 1200][i]),
        "atax": dict(m=[38, 116, 390, 1900][i], n=[42, 124, 410, 2100][i]),
        "mvt": dict(n=[40, 120, 400, 2000][i]),
        "trisolv": dict(n=[40, 120, 400, 2000][i]),
        "jacobi-2d": dict(tsteps=[20, 40, 100, 500][i], n=[30, 90, 250, 1300][i]),
        "seidel-2d": dict(tsteps=[20, 40, 100, 500][i], n=[40, 120, 400, 2000][i]),
        "2mm": dict(ni=[16, 40, 180, 800][i], nj=[18, 50, 190, 900][i], nk=[22, 70, 210, 1100][i], nl=[24, 80, 220, 1200][i]),
        "syrk": dict(m=[20, 60, 200, 1000][i], n=[30, 80, 240, 1200][i]),
        "bicg": dict(m=[38, 116, 390, 1900][i], n=[42, 124, 410, 2100][i]),
        "lu": dict(n=[40, 120, 400, 2000][i]),
        "cholesky": dict(n=[40, 120, 400, 2000][i]),
        "jacobi-1d": dict(tsteps=[20, 40, 100, 500][i], n=[30, 120, 400, 2000][i]),
        "heat-3d": dict(tsteps=[20, 40, 100, 500][i], n=[10, 20, 40, 120][i]),
        "fdtd-2d": dict(tmax=[20, 40, 100, 500][i], nx=[20, 60, 200, 1000][i], ny=[30, 80, 240, 1200][i]),
        "gesummv": dict(n=[30, 90, 250, 1300][i]),
        "doitgen": dict(nq=[8, 20, 40, 140][i], nr=[10, 25, 50, 150][i], np=[12, 30, 60, 160][i]),
        "covariance": dict(m=[28, 80, 240, 1200][i], n=[32, 100, 260, 1400][i]),
        "correlation": dict(m=[28, 80, 240, 1200][i], n=[32, 100, 260, 1400][i]),
        "floyd-warshall": dict(n=[60, 180, 500, 2800][i]),
        "nussinov": dict(n=[60, 180, 500, 2500][i]),
        "durbin": dict(n=[40, 120, 400, 2000][i]),
    }[kernel]

def spd(n):
    """PolyBench's positive semi-definite matrix for lu and cholesky: L L^T of a unit lower triangle."""
    i, j = np.ogrid[:n, :n]
    l = np.where(j <= i, np.fmod(-j, n) / n + 1, 0.0)      # C's % keeps the dividend's sign
    np.fill_diagonal(l, 1.0)
    return l @ l.T

def init(kernel, p):
    if kernel == "gemm":
        ni, nj, nk = p["ni"], p["nj"], p["nk"]
        i, j = np.ogrid[:ni, :nj]; c = ((i * j + 1) % ni) / ni
        i, j = np.ogrid[:ni, :nk]; a = (i * (j + 1) % nk) / nk
        i, j = np.ogrid[:nk, :nj]; b = (i * (j + 2) % nj) / nj
        return (c.astype(float), a.astype(float), b.astype(float))
    if kernel == "atax":
        m, n = p["m"], p["n"]
        x = 1 + np.arange(n) / n
        i, j = np.ogrid[:m, :n]; a = ((i + j) % n) / (5 * m)
        return (a.astype(float), x)
    if kernel == "mvt":
        n = p["n"]; r = np.arange(n)
        i, j = np.ogrid[:n, :n]
        return ((i * j % n) / n, (r % n) / n, ((r + 1) % n) / n, ((r + 3) % n) / n, ((r + 4) % n) / n)
    if kernel == "trisolv":
        n = p["n"]; i, j = np.ogrid[:n, :n]
        l = np.where(j <= i, (i + n - j + 1) * 2 / n, 0.0)
        return (l, np.arange(n, dtype=float))
    if kernel == "jacobi-2d":
        n = p["n"]; i, j = np.ogrid[:n, :n]
        return ((i * (j + 2) + 2) / n, (i * (j + 3) + 3) / n)
    if kernel == "seidel-2d":
        n = p["n"]; i, j = np.ogrid[:n, :n]
        return (((i * (j + 2) + 2) / n).astype(float),)
    if kernel == "2mm":
        ni, nj, nk, nl = p["ni"], p["nj"], p["nk"], p["nl"]
        i, j = np.ogrid[:ni, :nk]; a = ((i * j + 1) % ni) / ni
        i, j = np.ogrid[:nk, :nj]; b = (i * (j + 1) % nj) / nj
        i, j = np.ogrid[:nj, :nl]; c = ((i * (j + 3) + 1) % nl) / nl
        i, j = np.ogrid[:ni, :nl]; d = (i * (j + 2) % nk) / nk
        return (a, b, c, d)
    if kernel == "syrk":
        m, n = p["m"], p["n"]
        i, j = np.ogrid[:n, :m]; a = ((i * j + 1) % n) / n
        i, j = np.ogrid[:n, :n]; c = ((i * j + 2) % m) / m
        return (a, c)
    if kernel == "bicg":
        m, n = p["m"], p["n"]
        i, j = np.ogrid[:n, :m]
        return ((i * (j + 1) % n) / n, (np.arange(m) % m) / m, (np.arange(n) % n) / n)
    if kernel in ("lu", "cholesky"):
        return (spd(p["n"]),)
    if kernel == "jacobi-1d":
        n = p["n"]; r = np.arange(n)
        return ((r + 2) / n, (r + 3) / n)
    if kernel == "heat-3d":
        n = p["n"]; i, j, k = np.ogrid[:n, :n, :n]
        a = (i + j + (n - k)) * 10 / n
        return (a, a.copy())
    if kernel == "gesummv":
        n = p["n"]; i, j = np.ogrid[:n, :n]
        return (((i * j + 1) % n) / n, ((i * j + 2) % n) / n, (np.arange(n) % n) / n)
    if kernel == "doitgen":
        nr, nq, npp = p["nr"], p["nq"], p["np"]
        i, j, k = np.ogrid[:nr, :nq, :npp]
        a = ((i * j + k) % npp) / npp
        i, j = np.ogrid[:npp, :npp]
        return (a.astype(float), (i * j % npp) / npp)
    if kernel == "covariance":
        m, n = p["m"], p["n"]; i, j = np.ogrid[:n, :m]
        return ((i * j) / m,)
    if kernel == "correlation":
        m, n = p["m"], p["n"]; i, j = np.ogrid[:n, :m]
        return ((i * j) / m + i,)
    if kernel == "floyd-warshall":
        n = p["n"]; i, j = np.ogrid[:n, :n]
        s = i + j
        return (np.where((s % 13 == 0) | (s % 7 == 0) | (s % 11 == 0), 999, i * j % 7 + 1).astype(float),)
    if kernel == "nussinov":
        n = p["n"]
        return (((np.arange(n) + 1) % 4).astype(float), np.zeros((n, n)))
    if kernel == "durbin":
        n = p["n"]
        return ((n + 1 - np.arange(n)).astype(float),)
    if kernel == "fdtd-2d":
        nx, ny = p["nx"], p["ny"]; i, j = np.ogrid[:nx, :ny]
        return (i * (j + 1) / nx, i * (j + 2) / ny, i * (j + 3) / nx, np.arange(p["tmax"], dtype=float))

def run(kernel, p, data):
    if kernel == "gemm":
        c, a, b = (x.copy() for x in data)
        return 1.2 * c + 1.5 * (a @ b)
    if kernel == "atax":
        a, x = data
        return a.T @ (a @ x)
    if kernel == "mvt":
        a, x1, x2, y1, y2 = data
        return np.concatenate([x1 + a @ y1, x2 + a.T @ y2])
    if kernel == "trisolv":
        l, b = data
        x = np.empty_like(b)
        for i in range(len(b)):          # carried: each x[i] needs the ones before it
            x[i] = (b[i] - l[i, :i] @ x[:i]) / l[i, i]
        return x
    if kernel == "jacobi-2d":
        a, b = (x.copy() for x in data)
        for _ in range(p["tsteps"]):
            b[1:-1, 1:-1] = 0.2 * (a[1:-1, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:] + a[2:, 1:-1] + a[:-2, 1:-1])
            a[1:-1, 1:-1] = 0.2 * (b[1:-1, 1:-1] + b[1:-1, :-2] + b[1:-1, 2:] + b[2:, 1:-1] + b[:-2, 1:-1])
        return a
    if kernel not in ("gemm", "atax", "mvt", "trisolv", "jacobi-2d", "seidel-2d"):
        return run_more(kernel, p, data)
    if kernel == "seidel-2d":
        (a,) = (x.copy() for x in data)
        n = a.shape[0]
        for _ in range(p["tsteps"]):
            # Wavefronts 2i + j = w: the points of one front read only earlier fronts and the old
            # values of later ones (a[i+1, j-1] lies on front w - 1 + 2 = w + 1: not yet updated).
            for w in range(2 * 1 + 1, 2 * (n - 2) + (n - 2) + 1):
                i = np.arange(max(1, (w - (n - 2) + 1) // 2), min(n - 2, (w - 1) // 2) + 1)
                j = w - 2 * i
                keep = (j >= 1) & (j <= n - 2)
                i, j = i[keep], j[keep]
                if len(i) == 0:
                    continue
                a[i, j] = (a[i - 1, j - 1] + a[i - 1, j] + a[i - 1, j + 1] + a[i, j - 1] + a[i, j] + a[i, j + 1]
                           + a[i + 1, j - 1] + a[i + 1, j] + a[i + 1, j + 1]) / 9.0
        return a

def cast(data, dtype):
    """The inputs in the element type (PolyBench's DATA_TYPE: float computes in float32)."""
    return tuple(np.asarray(x, dtype=dtype) for x in data)

def run_more(kernel, p, data):
    if kernel == "2mm":
        a, b, c, d = data
        return (1.5 * (a @ b)) @ c + 1.2 * d
    if kernel == "syrk":
        a, c = data
        return np.where(np.tri(c.shape[0], dtype=bool), 1.5 * (a @ a.T) + 1.2 * c, c)
    if kernel == "bicg":
        a, pv, r = data
        return np.concatenate([a.T @ r, a @ pv])
    if kernel == "lu":
        (a,) = (x.copy() for x in data)
        n = a.shape[0]
        for i in range(n):               # row i of L, then of U, from the rows above
            for j in range(i):
                a[i, j] = (a[i, j] - a[i, :j] @ a[:j, j]) / a[j, j]
            a[i, i:] -= a[i, :i] @ a[:i, i:]
        return a
    if kernel == "cholesky":
        (a,) = (x.copy() for x in data)
        n = a.shape[0]
        for i in range(n):
            for j in range(i):
                a[i, j] = (a[i, j] - a[i, :j] @ a[j, :j]) / a[j, j]
            a[i, i] = np.sqrt(a[i, i] - a[i, :i] @ a[i, :i])
        return a
    if kernel == "jacobi-1d":
        a, b = (x.copy() for x in data)
        for _ in range(p["tsteps"]):
            b[1:-1] = 0.33333 * (a[:-2] + a[1:-1] + a[2:])
            a[1:-1] = 0.33333 * (b[:-2] + b[1:-1] + b[2:])
        return a
    if kernel == "heat-3d":
        a, b = (x.copy() for x in data)
        c = slice(1, -1)
        for _ in range(p["tsteps"]):
            for src, dst in ((a, b), (b, a)):
                dst[c, c, c] = (0.125 * (src[2:, c, c] - 2.0 * src[c, c, c] + src[:-2, c, c])
                                + 0.125 * (src[c, 2:, c] - 2.0 * src[c, c, c] + src[c, :-2, c])
                                + 0.125 * (src[c, c, 2:] - 2.0 * src[c, c, c] + src[c, c, :-2]) + src[c, c, c])
        return a
    if kernel == "gesummv":
        a, b, x = data
        return 1.5 * (a @ x) + 1.2 * (b @ x)
    if kernel == "doitgen":
        a, c4 = data
        nr, nq, npp = a.shape
        return (a.reshape(nr * nq, npp) @ c4).reshape(nr, nq, npp)
    if kernel == "covariance":
        (d,) = data
        n = d.shape[0]
        c = d - d.sum(axis=0) / n
        return c.T @ c / (n - 1)
    if kernel == "correlation":
        (d,) = data
        n = d.shape[0]
        mean = d.sum(axis=0) / n
        std = np.sqrt(((d - mean) * (d - mean)).sum(axis=0) / n)
        std = np.where(std <= 0.1, 1.0, std).astype(d.dtype)
        c = (d - mean) / (np.sqrt(d.dtype.type(n)) * std)
        corr = c.T @ c
        np.fill_diagonal(corr, 1.0)
        return corr
    if kernel == "fdtd-2d":
        ex, ey, hz, fict = (x.copy() for x in data)
        for t in range(p["tmax"]):
            ey[0, :] = fict[t]
            ey[1:, :] = ey[1:, :] - 0.5 * (hz[1:, :] - hz[:-1, :])
            ex[:, 1:] = ex[:, 1:] - 0.5 * (hz[:, 1:] - hz[:, :-1])
            hz[:-1, :-1] = hz[:-1, :-1] - 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1])
        return hz
    if kernel == "floyd-warshall":
        (path,) = (x.copy() for x in data)
        for k in range(path.shape[0]):
            # Row and column k do not change in step k (path[k, k] >= 0): the step is one array
            # operation.
            path = np.minimum(path, path[:, k:k + 1] + path[k:k + 1, :])
        return path
    if kernel == "nussinov":
        seq, table = (x.copy() for x in data)
        n = len(seq)
        # table[i, j] reads only entries of shorter diagonals j - i: one diagonal at a time, each
        # as arrays (its k terms gathered as a (points, d - 1) block).
        for d in range(1, n):
            i = np.arange(n - d); j = i + d
            v = np.maximum(table[i, j], table[i, j - 1])
            v = np.maximum(v, table[i + 1, j])
            match = np.where(seq[i] + seq[j] == 3, 1, 0).astype(table.dtype)
            v = np.maximum(v, table[i + 1, j - 1] + np.where(i < j - 1, match, 0).astype(table.dtype))
            if d >= 2:
                k = i[:, None] + np.arange(1, d)[None, :]
                v = np.maximum(v, (table[i[:, None], k] + table[k + 1, j[:, None]]).max(axis=1))
            table[i, j] = v
        return table
    if kernel == "durbin":
        (r,) = data
        n = len(r)
        y = np.empty_like(r)
        y[0] = -r[0]; beta = r.dtype.type(1); alpha = -r[0]
        for k in range(1, n):            # carried: each step needs the whole y before it
            beta = (1 - alpha * alpha) * beta
            s = r[k - 1::-1] @ y[:k]
            alpha = -(r[k] + s) / beta
            y[:k] = y[:k] + alpha * y[k - 1::-1]
            y[k] = alpha
        return y
    raise KeyError(kernel)

def main(run=run, peer="numpy", compile_first=False):
    """The command line of both peers: `run(kernel, params, data)` gives a kernel's output;
    `compile_first` makes one untimed call first (Numba's compile)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="mini", choices=SIZES)
    ap.add_argument("--kernels", default="gemm,2mm,syrk,gesummv,atax,bicg,mvt,doitgen,trisolv,lu,cholesky,covariance,correlation,jacobi-1d,jacobi-2d,heat-3d,fdtd-2d,seidel-2d,floyd-warshall,nussinov,durbin")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dtype", default="f64", choices=["f64", "f32"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    for k in args.kernels.split(","):
        p = params(k, args.size)
        data = cast(init(k, p), np.float32 if args.dtype == "f32" else np.float64)
        if compile_first:
            run(k, p, data)
        best = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter(); out = run(k, p, data); best = min(best, time.perf_counter() - t)
        rows.append(dict(kernel=k, size=args.size, dtype=args.dtype, seconds=best, checksum=float(out.astype(np.float64).sum()),
                         corner=float(out.reshape(-1)[0])))
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['kernel']:<10} {r['size']:<6} {r['dtype']} {peer} {r['seconds']:.6f} s  checksum {r['checksum']!r} corner {r['corner']!r}")

if __name__ == "__main__":
    main()
