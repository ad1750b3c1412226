#!/usr/bin/env python3
"""PolyBench/C 4.2.1 kernels in Numba, as an expert writes them for all cores: the C loops with
`prange` on every loop that carries no dependence (fastmath off, so sums keep the loops' order),
loop orders chosen for unit strides. Inputs, sizes and outputs are bench/polybench/polybench.py's.

    python3 bench/polybench/polybench_numba.py [--size mini|small|medium|large] [--dtype f64|f32] [--kernels gemm,lu] [--json]

Times are the best of --repeats after one untimed call that compiles (Numba's compile is not
counted, as Tandem's runs are warm). Prints `numba: not installed` and exits 0 without Numba.
"""
import os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import polybench as pb

try:
    from numba import njit, prange
except ImportError:
    print("numba: not installed (pip install numba)")
    sys.exit(0)

jit = njit(parallel=True, fastmath=False, cache=False)
seq = njit(fastmath=False, cache=False)          # kernels where every loop carries a dependence

@jit
def gemm(c, a, b, alpha, beta):
    ni, nj = c.shape
    nk = a.shape[1]
    for i in prange(ni):
        for j in range(nj):
            c[i, j] *= beta
        for k in range(nk):
            for j in range(nj):
                c[i, j] += alpha * a[i, k] * b[k, j]

@jit
def two_mm(a, b, c, d, alpha, beta):
    ni, nk = a.shape
    nj = b.shape[1]
    nl = c.shape[1]
    tmp = np.zeros((ni, nj), dtype=a.dtype)
    for i in prange(ni):
        for k in range(nk):
            for j in range(nj):
                tmp[i, j] += alpha * a[i, k] * b[k, j]
    for i in prange(ni):
        for j in range(nl):
            d[i, j] *= beta
        for k in range(nj):
            for j in range(nl):
                d[i, j] += tmp[i, k] * c[k, j]

@jit
def syrk(a, c, alpha, beta):
    n, m = a.shape
    for i in prange(n):
        for j in range(i + 1):
            c[i, j] *= beta
        for k in range(m):
            for j in range(i + 1):
                c[i, j] += alpha * a[i, k] * a[j, k]

@jit
def gesummv(a, b, x, y, alpha, beta):
    n = a.shape[0]
    for i in prange(n):
        t = a.dtype.type(0)
        s = a.dtype.type(0)
        for j in range(n):
            t += a[i, j] * x[j]
            s += b[i, j] * x[j]
        y[i] = alpha * t + beta * s

@jit
def atax(a, x, y):
    m, n = a.shape
    tmp = np.zeros(m, dtype=a.dtype)
    for i in prange(m):
        s = a.dtype.type(0)
        for j in range(n):
            s += a[i, j] * x[j]
        tmp[i] = s
    for j in prange(n):
        s = a.dtype.type(0)
        for i in range(m):
            s += a[i, j] * tmp[i]
        y[j] = s

@jit
def bicg(a, p, r, s, q):
    n, m = a.shape
    for j in prange(m):
        t = a.dtype.type(0)
        for i in range(n):
            t += r[i] * a[i, j]
        s[j] = t
    for i in prange(n):
        t = a.dtype.type(0)
        for j in range(m):
            t += a[i, j] * p[j]
        q[i] = t

@jit
def mvt(a, x1, x2, y1, y2):
    n = a.shape[0]
    for i in prange(n):
        t = x1[i]
        for j in range(n):
            t += a[i, j] * y1[j]
        x1[i] = t
    for i in prange(n):
        t = x2[i]
        for j in range(n):
            t += a[j, i] * y2[j]
        x2[i] = t

@jit
def doitgen(a, c4):
    nr, nq, npp = a.shape
    for r in prange(nr):
        s = np.zeros(npp, dtype=a.dtype)
        for q in range(nq):
            for p in range(npp):
                s[p] = 0
            for t in range(npp):
                for p in range(npp):
                    s[p] += a[r, q, t] * c4[t, p]
            for p in range(npp):
                a[r, q, p] = s[p]

@seq
def trisolv(l, b, x):
    n = len(b)
    for i in range(n):
        t = b[i]
        for j in range(i):
            t -= l[i, j] * x[j]
        x[i] = t / l[i, i]

@jit
def lu(a):
    n = a.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                a[i, j] -= a[i, k] * a[k, j]
            a[i, j] /= a[j, j]
        for j in prange(i, n):
            for k in range(i):
                a[i, j] -= a[i, k] * a[k, j]

@seq
def cholesky(a):
    n = a.shape[0]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                a[i, j] -= a[i, k] * a[j, k]
            a[i, j] /= a[j, j]
        for k in range(i):
            a[i, i] -= a[i, k] * a[i, k]
        a[i, i] = np.sqrt(a[i, i])

@jit
def covariance(data, cov):
    n, m = data.shape
    mean = np.zeros(m, dtype=data.dtype)
    for j in prange(m):
        s = data.dtype.type(0)
        for i in range(n):
            s += data[i, j]
        mean[j] = s / n
    for i in prange(n):
        for j in range(m):
            data[i, j] -= mean[j]
    for i in prange(m):
        for j in range(i, m):
            s = data.dtype.type(0)
            for k in range(n):
                s += data[k, i] * data[k, j]
            cov[i, j] = s / (n - 1)
            cov[j, i] = cov[i, j]

@jit
def correlation(data, corr):
    n, m = data.shape
    eps = data.dtype.type(0.1)
    mean = np.zeros(m, dtype=data.dtype)
    std = np.zeros(m, dtype=data.dtype)
    for j in prange(m):
        s = data.dtype.type(0)
        for i in range(n):
            s += data[i, j]
        mean[j] = s / n
        v = data.dtype.type(0)
        for i in range(n):
            v += (data[i, j] - mean[j]) * (data[i, j] - mean[j])
        v = np.sqrt(v / n)
        std[j] = data.dtype.type(1) if v <= eps else v
    root = np.sqrt(data.dtype.type(n))
    for i in prange(n):
        for j in range(m):
            data[i, j] = (data[i, j] - mean[j]) / (root * std[j])
    for i in prange(m - 1):
        corr[i, i] = 1
        for j in range(i + 1, m):
            s = data.dtype.type(0)
            for k in range(n):
                s += data[k, i] * data[k, j]
            corr[i, j] = s
            corr[j, i] = s
    corr[m - 1, m - 1] = 1

@jit
def jacobi_1d(a, b, tsteps):
    n = len(a)
    c = a.dtype.type(0.33333)
    for _ in range(tsteps):
        for i in prange(1, n - 1):
            b[i] = c * (a[i - 1] + a[i] + a[i + 1])
        for i in prange(1, n - 1):
            a[i] = c * (b[i - 1] + b[i] + b[i + 1])

@jit
def jacobi_2d(a, b, tsteps):
    n = a.shape[0]
    c = a.dtype.type(0.2)
    for _ in range(tsteps):
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                b[i, j] = c * (a[i, j] + a[i, j - 1] + a[i, 1 + j] + a[1 + i, j] + a[i - 1, j])
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                a[i, j] = c * (b[i, j] + b[i, j - 1] + b[i, 1 + j] + b[1 + i, j] + b[i - 1, j])

@jit
def heat_3d(a, b, tsteps):
    n = a.shape[0]
    c = a.dtype.type(0.125)
    two = a.dtype.type(2)
    for _ in range(tsteps):
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    b[i, j, k] = (c * (a[i + 1, j, k] - two * a[i, j, k] + a[i - 1, j, k])
                                  + c * (a[i, j + 1, k] - two * a[i, j, k] + a[i, j - 1, k])
                                  + c * (a[i, j, k + 1] - two * a[i, j, k] + a[i, j, k - 1]) + a[i, j, k])
        for i in prange(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    a[i, j, k] = (c * (b[i + 1, j, k] - two * b[i, j, k] + b[i - 1, j, k])
                                  + c * (b[i, j + 1, k] - two * b[i, j, k] + b[i, j - 1, k])
                                  + c * (b[i, j, k + 1] - two * b[i, j, k] + b[i, j, k - 1]) + b[i, j, k])

@jit
def fdtd_2d(ex, ey, hz, fict):
    nx, ny = ex.shape
    half = ex.dtype.type(0.5)
    c = ex.dtype.type(0.7)
    for t in range(len(fict)):
        for j in prange(ny):
            ey[0, j] = fict[t]
        for i in prange(1, nx):
            for j in range(ny):
                ey[i, j] = ey[i, j] - half * (hz[i, j] - hz[i - 1, j])
        for i in prange(nx):
            for j in range(1, ny):
                ex[i, j] = ex[i, j] - half * (hz[i, j] - hz[i, j - 1])
        for i in prange(nx - 1):
            for j in range(ny - 1):
                hz[i, j] = hz[i, j] - c * (ex[i, j + 1] - ex[i, j] + ey[i + 1, j] - ey[i, j])

@seq
def seidel_2d(a, tsteps):
    # Every loop carries a dependence: in order (a wavefront version gains little on two cores).
    n = a.shape[0]
    nine = a.dtype.type(9)
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                a[i, j] = (a[i - 1, j - 1] + a[i - 1, j] + a[i - 1, j + 1] + a[i, j - 1] + a[i, j] + a[i, j + 1]
                           + a[i + 1, j - 1] + a[i + 1, j] + a[i + 1, j + 1]) / nine

@jit
def floyd_warshall(path):
    n = path.shape[0]
    for k in range(n):
        # Row and column k do not change in step k (path[k, k] >= 0): the rows are independent.
        for i in prange(n):
            for j in range(n):
                t = path[i, k] + path[k, j]
                if not path[i, j] < t:
                    path[i, j] = t

@jit
def nussinov(seq, table):
    n = len(seq)
    # table[i, j] reads shorter diagonals only: each diagonal's points in parallel.
    for d in range(1, n):
        for i in prange(n - d):
            j = i + d
            v = table[i, j]
            if table[i, j - 1] > v:
                v = table[i, j - 1]
            if table[i + 1, j] > v:
                v = table[i + 1, j]
            m = table.dtype.type(1) if (i < j - 1 and seq[i] + seq[j] == 3) else table.dtype.type(0)
            if table[i + 1, j - 1] + m > v:
                v = table[i + 1, j - 1] + m
            for k in range(i + 1, j):
                if table[i, k] + table[k + 1, j] > v:
                    v = table[i, k] + table[k + 1, j]
            table[i, j] = v

@seq
def durbin(r, y):
    n = len(r)
    z = np.zeros(n, dtype=r.dtype)
    y[0] = -r[0]
    beta = r.dtype.type(1)
    alpha = -r[0]
    for k in range(1, n):
        beta = (1 - alpha * alpha) * beta
        s = r.dtype.type(0)
        for i in range(k):
            s += r[k - i - 1] * y[i]
        alpha = -(r[k] + s) / beta
        for i in range(k):
            z[i] = y[i] + alpha * y[k - i - 1]
        for i in range(k):
            y[i] = z[i]
        y[k] = alpha

def run(kernel, p, data):
    """The kernel on copies of what it writes; returns its output array."""
    t = data[0].dtype.type
    if kernel == "gemm":
        c, a, b = data; c = c.copy(); gemm(c, a, b, t(1.5), t(1.2)); return c
    if kernel == "2mm":
        a, b, c, d = data; d = d.copy(); two_mm(a, b, c, d, t(1.5), t(1.2)); return d
    if kernel == "syrk":
        a, c = data; c = c.copy(); syrk(a, c, t(1.5), t(1.2)); return c
    if kernel == "gesummv":
        a, b, x = data; y = np.zeros_like(x); gesummv(a, b, x, y, t(1.5), t(1.2)); return y
    if kernel == "atax":
        a, x = data; y = np.zeros(a.shape[1], dtype=a.dtype); atax(a, x, y); return y
    if kernel == "bicg":
        a, pv, r = data; s = np.zeros(a.shape[1], dtype=a.dtype); q = np.zeros(a.shape[0], dtype=a.dtype)
        bicg(a, pv, r, s, q); return np.concatenate([s, q])
    if kernel == "mvt":
        a, x1, x2, y1, y2 = data; x1 = x1.copy(); x2 = x2.copy(); mvt(a, x1, x2, y1, y2); return np.concatenate([x1, x2])
    if kernel == "doitgen":
        a, c4 = data; a = a.copy(); doitgen(a, c4); return a
    if kernel == "trisolv":
        l, b = data; x = np.zeros_like(b); trisolv(l, b, x); return x
    if kernel == "lu":
        a = data[0].copy(); lu(a); return a
    if kernel == "cholesky":
        a = data[0].copy(); cholesky(a); return a
    if kernel == "covariance":
        d = data[0].copy(); cov = np.zeros((d.shape[1], d.shape[1]), dtype=d.dtype); covariance(d, cov); return cov
    if kernel == "correlation":
        d = data[0].copy(); corr = np.zeros((d.shape[1], d.shape[1]), dtype=d.dtype); correlation(d, corr); return corr
    if kernel == "jacobi-1d":
        a, b = (x.copy() for x in data); jacobi_1d(a, b, p["tsteps"]); return a
    if kernel == "jacobi-2d":
        a, b = (x.copy() for x in data); jacobi_2d(a, b, p["tsteps"]); return a
    if kernel == "heat-3d":
        a, b = (x.copy() for x in data); heat_3d(a, b, p["tsteps"]); return a
    if kernel == "fdtd-2d":
        ex, ey, hz, fict = data; ex, ey, hz = ex.copy(), ey.copy(), hz.copy(); fdtd_2d(ex, ey, hz, fict); return hz
    if kernel == "seidel-2d":
        a = data[0].copy(); seidel_2d(a, p["tsteps"]); return a
    if kernel == "floyd-warshall":
        path = data[0].copy(); floyd_warshall(path); return path
    if kernel == "nussinov":
        seq, table = data; table = table.copy(); nussinov(seq, table); return table
    if kernel == "durbin":
        r = data[0]; y = np.zeros_like(r); durbin(r, y); return y
    raise KeyError(kernel)

if __name__ == "__main__":
    pb.main(run, "numba", compile_first=True)
