"""Numba peer: each workload as fused explicit loops in @njit(parallel=True, fastmath=False)
kernels, parallelised with prange.

- black_scholes: one pass over the options; every option is priced at all the iterations'
  rates while its S, X, T sit in registers; call/put sums are float64 prange reductions.
- sor: the whole while-loop runs in the kernel; a sweep is one prange loop over rows that
  writes the new interior into a second buffer and reduces the summed |change| (delta) in
  float64; buffers are swapped; the epsilon test runs after every sweep as in the reference.
- red_black_sor: in place, per colour one prange loop over rows visiting that colour's cells.
- shallow_water: per step the wall copies, one prange pass computing the six half-step
  fields (x and y) and one prange pass updating H, U, V; sums as float64 reductions.
- nbody: a double loop accumulating each body's acceleration (no N x N temporaries), targets
  in blocks of 16 so the inner loop vectorises across targets (each sum in source order), then
  a prange pass moving the bodies.
- gmm_em: the E-step and the M-step sums of resp and resp*x are one fused prange pass over
  chunks of points (per-chunk partial sums, then summed); the variances are a second pass
  (the reference's two-pass form, stable in float32).

Float32 runs compute in float32: every constant is handed to the kernels as a scalar of
the array type (a float literal inside a kernel would promote the arithmetic to float64).
"""
import math

import numpy as np

from common import scalars

NAME = "numba"
INSTALL = "pip install numba"
try:
    import numba
    from numba import njit, prange
    AVAILABLE = True
except ImportError:  # reported by run_peers.py as missing
    numba = None
    AVAILABLE = False


def versions():
    if not AVAILABLE:
        return {"numba": None}
    import llvmlite
    return {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "numba_threads": numba.get_num_threads(), "numba_threading_layer": _threading_layer()}


def _threading_layer():
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return None


def prepare(workload, inputs):
    return {k: v.copy() for k, v in inputs.items()}


def note(workload):
    return ""


if AVAILABLE:
    kernel = njit(parallel=True, fastmath=False)

    @kernel
    def _black_scholes(S, X, T, rv, nr, V, half, one, s2):
        n = S.shape[0]
        iters = rv.shape[0]
        call_sum = 0.0
        put_sum = 0.0
        for i in prange(n):
            s = S[i]
            x = X[i]
            t = T[i]
            sqrtT = np.sqrt(t)
            lsx = np.log(s / x)
            vs = V * sqrtT
            for it in range(iters):
                d1 = (lsx + rv[it] * t) / vs
                d2 = d1 - vs
                cnd1 = half * math.erfc(-d1 / s2)
                cnd2 = half * math.erfc(-d2 / s2)
                xe = x * np.exp(nr[it] * t)
                call_sum += s * cnd1 - xe * cnd2
                put_sum += xe * (one - cnd2) - s * (one - cnd1)
        return call_sum, put_sum

    @kernel
    def _sor(A, B, max_iterations, epsilon, f):
        m = A.shape[0] - 1
        delta = np.inf
        sweeps = 0
        while sweeps < max_iterations and delta >= epsilon:
            d = 0.0
            for i in prange(1, m):
                row = 0.0
                for j in range(1, m):
                    c = A[i, j]
                    v = f * (c + A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1])
                    B[i, j] = v
                    row += abs(v - c)
                d += row
            delta = d
            A, B = B, A
            sweeps += 1
        return A, sweeps, delta

    @kernel
    def _red_black_sor(A, iterations, a, b):
        n = A.shape[0] - 2
        for _ in range(iterations):
            for color in range(2):
                for i in prange(1, n + 1):
                    j0 = 1 + ((i + 1 + color) % 2)  # (i + j) % 2 == color
                    for j in range(j0, n + 1, 2):
                        nb = A[i - 1, j] + A[i + 1, j] + A[i, j - 1] + A[i, j + 1]
                        A[i, j] = a * A[i, j] + b * nb
        return A

    @kernel
    def _shallow_water(H, U, V, steps, two, c1, c2, gh, cx, cy):
        m = H.shape[0]          # n + 2
        n = m - 2
        Hx = np.empty((n + 1, n), H.dtype)
        Ux = np.empty((n + 1, n), H.dtype)
        Vx = np.empty((n + 1, n), H.dtype)
        Hy = np.empty((n, n + 1), H.dtype)
        Uy = np.empty((n, n + 1), H.dtype)
        Vy = np.empty((n, n + 1), H.dtype)
        for _ in range(steps):
            for i in range(m):  # walls: columns first, then rows (the corners follow the rows)
                H[i, 0] = H[i, 1]
                U[i, 0] = U[i, 1]
                V[i, 0] = -V[i, 1]
                H[i, m - 1] = H[i, m - 2]
                U[i, m - 1] = U[i, m - 2]
                V[i, m - 1] = -V[i, m - 2]
            for j in range(m):
                H[0, j] = H[1, j]
                U[0, j] = -U[1, j]
                V[0, j] = V[1, j]
                H[m - 1, j] = H[m - 2, j]
                U[m - 1, j] = -U[m - 2, j]
                V[m - 1, j] = V[m - 2, j]
            for i in prange(n + 1):
                for j in range(n):  # x half step between rows i and i+1, interior column j+1
                    h1 = H[i + 1, j + 1]
                    h0 = H[i, j + 1]
                    u1 = U[i + 1, j + 1]
                    u0 = U[i, j + 1]
                    v1 = V[i + 1, j + 1]
                    v0 = V[i, j + 1]
                    Hx[i, j] = (h1 + h0) / two - c1 * (u1 - u0)
                    Ux[i, j] = (u1 + u0) / two - c1 * ((u1 * u1 / h1 + gh * (h1 * h1)) - (u0 * u0 / h0 + gh * (h0 * h0)))
                    Vx[i, j] = (v1 + v0) / two - c1 * ((u1 * v1 / h1) - (u0 * v0 / h0))
                if i < n:
                    for j in range(n + 1):  # y half step between columns j and j+1, interior row i+1
                        h1 = H[i + 1, j + 1]
                        h0 = H[i + 1, j]
                        u1 = U[i + 1, j + 1]
                        u0 = U[i + 1, j]
                        v1 = V[i + 1, j + 1]
                        v0 = V[i + 1, j]
                        Hy[i, j] = (h1 + h0) / two - c2 * (v1 - v0)
                        Uy[i, j] = (u1 + u0) / two - c2 * ((v1 * u1 / h1) - (v0 * u0 / h0))
                        Vy[i, j] = (v1 + v0) / two - c2 * ((v1 * v1 / h1 + gh * (h1 * h1)) - (v0 * v0 / h0 + gh * (h0 * h0)))
            for i in prange(1, n + 1):
                for j in range(1, n + 1):
                    ux1 = Ux[i, j - 1]
                    ux0 = Ux[i - 1, j - 1]
                    vx1 = Vx[i, j - 1]
                    vx0 = Vx[i - 1, j - 1]
                    hx1 = Hx[i, j - 1]
                    hx0 = Hx[i - 1, j - 1]
                    vy1 = Vy[i - 1, j]
                    vy0 = Vy[i - 1, j - 1]
                    uy1 = Uy[i - 1, j]
                    uy0 = Uy[i - 1, j - 1]
                    hy1 = Hy[i - 1, j]
                    hy0 = Hy[i - 1, j - 1]
                    H[i, j] = H[i, j] - cx * (ux1 - ux0) - cy * (vy1 - vy0)
                    U[i, j] = (U[i, j]
                               - cx * ((ux1 * ux1 / hx1 + gh * (hx1 * hx1)) - (ux0 * ux0 / hx0 + gh * (hx0 * hx0)))
                               - cy * ((vy1 * uy1 / hy1) - (vy0 * uy0 / hy0)))
                    V[i, j] = (V[i, j]
                               - cx * ((ux1 * vx1 / hx1) - (ux0 * vx0 / hx0))
                               - cy * ((vy1 * vy1 / hy1 + gh * (hy1 * hy1)) - (vy0 * vy0 / hy0 + gh * (hy0 * hy0))))
        h_sum = 0.0
        energy = 0.0
        for i in prange(m):
            for j in range(m):
                h_sum += H[i, j]
                energy += U[i, j] * U[i, j] + V[i, j] * V[i, j]
        return h_sum, energy

    # Targets in blocks of NB: the inner loop runs over the NB targets of a block for each
    # source, so it vectorises across targets with each target's sum still in source order
    # (no reassociation, fastmath off: the same bits as the plain double loop, 4-7x faster).
    NB = 16

    @kernel
    def _nbody(x, y, z, m, steps, dt, G, e2, zero):
        n = x.shape[0]
        vx = np.zeros_like(x)
        vy = np.zeros_like(x)
        vz = np.zeros_like(x)
        Gm = np.empty_like(m)
        for j in range(n):
            Gm[j] = G * m[j]
        blocks = (n + NB - 1) // NB
        for _ in range(steps):
            for b in prange(blocks):
                i0 = b * NB
                xi = np.empty(NB, x.dtype)
                yi = np.empty(NB, x.dtype)
                zi = np.empty(NB, x.dtype)
                ax = np.zeros(NB, x.dtype)
                ay = np.zeros(NB, x.dtype)
                az = np.zeros(NB, x.dtype)
                for t in range(NB):
                    i = min(i0 + t, n - 1)     # a short last block repeats its last target
                    xi[t] = x[i]
                    yi[t] = y[i]
                    zi[t] = z[i]
                for j in range(n):
                    xj = x[j]
                    yj = y[j]
                    zj = z[j]
                    gj = Gm[j]
                    for t in range(NB):
                        dx = xj - xi[t]
                        dy = yj - yi[t]
                        dz = zj - zi[t]
                        r2 = dx * dx + dy * dy + dz * dz + e2
                        w = gj / (r2 * np.sqrt(r2))
                        ax[t] += dx * w
                        ay[t] += dy * w
                        az[t] += dz * w
                for t in range(min(NB, n - i0)):
                    i = i0 + t
                    vx[i] = vx[i] + dt * ax[t]
                    vy[i] = vy[i] + dt * ay[t]
                    vz[i] = vz[i] + dt * az[t]
            for i in prange(n):
                x[i] = x[i] + dt * vx[i]
                y[i] = y[i] + dt * vy[i]
                z[i] = z[i] + dt * vz[i]
        kinetic = 0.0
        for i in range(n):
            kinetic += m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i])
        return 0.5 * kinetic

    CHUNK = 2048

    @kernel
    def _gmm_em(X, mu, var, w, iterations, twopi, half, tiny, floor, nf, zero):
        n, d = X.shape
        k = mu.shape[0]
        nch = (n + CHUNK - 1) // CHUNK
        resp = np.empty((n, k), X.dtype)
        pnk = np.empty((nch, k), X.dtype)
        psx = np.empty((nch, k, d), X.dtype)
        logliks = np.empty(iterations, np.float64)
        logw = np.empty(k, X.dtype)
        l2pv = np.empty((k, d), X.dtype)
        nk = np.empty(k, X.dtype)
        for it in range(iterations):
            for c in range(k):
                logw[c] = np.log(w[c])
                for e in range(d):
                    l2pv[c, e] = np.log(twopi * var[c, e])
            # E-step fused with the M-step's sums of resp and resp * x.
            loglik = 0.0
            for ch in prange(nch):
                lo = ch * CHUNK
                hi = min(n, lo + CHUNK)
                for c in range(k):
                    pnk[ch, c] = zero
                    for e in range(d):
                        psx[ch, c, e] = zero
                for i in range(lo, hi):
                    top = zero
                    for c in range(k):
                        s = zero
                        for e in range(d):
                            df = X[i, e] - mu[c, e]
                            s += l2pv[c, e] + df * df / var[c, e]
                        lp = logw[c] - half * s
                        resp[i, c] = lp
                        if c == 0 or lp > top:
                            top = lp
                    se = zero
                    for c in range(k):
                        se += np.exp(resp[i, c] - top)
                    lse = top + np.log(se)
                    loglik += lse
                    for c in range(k):
                        r = np.exp(resp[i, c] - lse)
                        resp[i, c] = r
                        pnk[ch, c] += r
                        for e in range(d):
                            psx[ch, c, e] += r * X[i, e]
            logliks[it] = loglik
            for c in range(k):
                t = zero
                for ch in range(nch):
                    t += pnk[ch, c]
                nk[c] = t + tiny
                w[c] = nk[c] / nf
                for e in range(d):
                    t = zero
                    for ch in range(nch):
                        t += psx[ch, c, e]
                    mu[c, e] = t / nk[c]
            # Second pass: variances about the new means.
            for ch in prange(nch):
                lo = ch * CHUNK
                hi = min(n, lo + CHUNK)
                for c in range(k):
                    for e in range(d):
                        psx[ch, c, e] = zero
                for i in range(lo, hi):
                    for c in range(k):
                        r = resp[i, c]
                        for e in range(d):
                            dv = X[i, e] - mu[c, e]
                            psx[ch, c, e] += r * dv * dv
            for c in range(k):
                for e in range(d):
                    t = zero
                    for ch in range(nch):
                        t += psx[ch, c, e]
                    var[c, e] = t / nk[c] + floor
        return logliks


def black_scholes(inp, n, iterations):
    S, X, T = inp["S"], inp["X"], inp["T"]
    t = S.dtype
    R, V = 0.02, 0.30
    rs = [R * (1.0 + it / max(iterations, 1) * 0.01) for it in range(iterations)]
    rv = np.array([r + 0.5 * V * V for r in rs], np.float64).astype(t)
    nr = np.array([-r for r in rs], np.float64).astype(t)
    c = scalars(t, V=V, half=0.5, one=1.0, s2=math.sqrt(2.0))
    call_sum, put_sum = _black_scholes(S, X, T, rv, nr, c["V"], c["half"], c["one"], c["s2"])
    return {"call_sum": float(call_sum), "put_sum": float(put_sum)}


def sor(inp, n, max_iterations, epsilon):
    A = inp["A"]
    f = scalars(A.dtype, f=0.2)["f"]
    A, sweeps, delta = _sor(A, A.copy(), max_iterations, float(epsilon), f)
    return {"sweeps": int(sweeps), "last_delta": float(delta), "sum": float(np.sum(A, dtype=np.float64))}


def red_black_sor(inp, n, iterations, omega):
    A = inp["A"]
    k = scalars(A.dtype, a=1.0 - omega, b=omega * 0.25)
    A = _red_black_sor(A, iterations, k["a"], k["b"])
    return {"sum": float(np.sum(A, dtype=np.float64))}


def shallow_water(inp, n, steps, dt, dx, dy, g):
    H, U, V = inp["H"], inp["U"], inp["V"]
    k = scalars(H.dtype, two=2.0, c1=dt / (2 * dx), c2=dt / (2 * dy), gh=g / 2, cx=dt / dx, cy=dt / dy)
    h_sum, energy = _shallow_water(H, U, V, steps, k["two"], k["c1"], k["c2"], k["gh"], k["cx"], k["cy"])
    return {"h_sum": float(h_sum), "energy": float(energy)}


def nbody(inp, n, steps, dt, G, eps):
    x, y, z, m = inp["x"], inp["y"], inp["z"], inp["m"]
    k = scalars(x.dtype, dt=dt, G=G, e2=eps * eps, zero=0.0)
    kinetic = _nbody(x, y, z, m, steps, k["dt"], k["G"], k["e2"], k["zero"])
    return {"x_sum": float(np.sum(x, dtype=np.float64)), "y_sum": float(np.sum(y, dtype=np.float64)),
            "z_sum": float(np.sum(z, dtype=np.float64)), "kinetic": float(kinetic)}


def gmm_em(inp, n, d, k, iterations):
    X, mu, var, w = inp["X"], inp["mu"], inp["var"], inp["w"]
    c = scalars(X.dtype, twopi=2 * np.pi, half=0.5, tiny=1e-10, floor=1e-6, nf=n, zero=0.0)
    logliks = _gmm_em(X, mu, var, w, iterations, c["twopi"], c["half"], c["tiny"], c["floor"], c["nf"], c["zero"])
    return {"loglik_first": float(logliks[0]), "loglik_last": float(logliks[-1]),
            "mu_abs_sum": float(np.sum(np.abs(mu), dtype=np.float64)), "var_sum": float(np.sum(var, dtype=np.float64))}


WORKLOADS = {f.__name__: f for f in (black_scholes, sor, red_black_sor, shallow_water, nbody, gmm_em)}
