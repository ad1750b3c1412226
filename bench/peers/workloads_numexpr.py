"""numexpr peer: the elementwise parts of each workload as numexpr.evaluate calls
(one fused, multi-threaded pass per expression, no NumPy temporaries in between).

numexpr only evaluates elementwise expressions (plus slow single-threaded whole-array
sum/prod), so what it cannot do stays in NumPy and is named in note(): erfc (scipy),
axis reductions (np.sum / np.max), the GMM's matrix product, the O(n) boundary copies.
No workload is left out: each one has a sizeable elementwise core.

Constants are passed in as NumPy scalars of the array type (common.scalars): numexpr
would otherwise promote float32 expressions with Python-float constants to float64.
"""
import math

import numpy as np

from common import scalars

NAME = "numexpr"
INSTALL = "pip install numexpr"
try:
    import numexpr as ne
    AVAILABLE = True
except ImportError:  # reported by run_peers.py as missing
    ne = None
    AVAILABLE = False

try:
    from scipy.special import erfc as _erfc
except ImportError:
    _erfc = np.vectorize(math.erfc, otypes=[np.float64])

NOTES = {
    "black_scholes": "numexpr for d1, d2, exp and the prices; erfc by scipy.special (numexpr has no erf/erfc); sums by np.sum",
    "sor": "numexpr sweep into a second buffer (double buffering) and |change|; delta summed by np.sum in float64",
    "red_black_sor": "numexpr update of each strided colour view; written back by NumPy assignment",
    "shallow_water": "numexpr for the six half-step fields and the three updates; wall copies in NumPy",
    "nbody": "numexpr for the N x N r2, weights and products (dx, dy, dz fused in); row sums by np.sum",
    "gmm_em": "numexpr for the n x k log-densities (accumulated over d), exp/log of the normalisation and "
              "the variance terms; row max/sums by NumPy, resp^T X by BLAS matmul",
}


def versions():
    if not AVAILABLE:
        return {"numexpr": None}
    return {"numexpr": ne.__version__, "numexpr_threads": ne.get_num_threads()}


def prepare(workload, inputs):
    return {k: v.copy() for k, v in inputs.items()}


def note(workload):
    return NOTES[workload]


def E(expr, **variables):
    return ne.evaluate(expr, local_dict=variables)


def erfc(x):
    return np.asarray(_erfc(x)).astype(x.dtype, copy=False)


def black_scholes(inp, n, iterations):
    S, X, T = inp["S"], inp["X"], inp["T"]
    t = S.dtype
    R, V = 0.02, 0.30
    c = scalars(t, V=V, half=0.5, one=1.0, s2=math.sqrt(2.0))
    call_sum = put_sum = 0.0
    for it in range(iterations):
        r = R * (1.0 + it / max(iterations, 1) * 0.01)
        k = scalars(t, rv=r + 0.5 * V * V, nr=-r)
        d1 = E("(log(S / X) + rv * T) / (V * sqrt(T))", S=S, X=X, T=T, rv=k["rv"], V=c["V"])
        d2 = E("d1 - V * sqrt(T)", d1=d1, T=T, V=c["V"])
        e1 = erfc(E("-d1 / s2", d1=d1, s2=c["s2"]))
        e2 = erfc(E("-d2 / s2", d2=d2, s2=c["s2"]))
        call = E("S * (half * e1) - X * exp(nr * T) * (half * e2)",
                 S=S, X=X, T=T, e1=e1, e2=e2, nr=k["nr"], half=c["half"])
        put = E("X * exp(nr * T) * (one - half * e2) - S * (one - half * e1)",
                S=S, X=X, T=T, e1=e1, e2=e2, nr=k["nr"], half=c["half"], one=c["one"])
        call_sum += float(np.sum(call, dtype=np.float64))
        put_sum += float(np.sum(put, dtype=np.float64))
    return {"call_sum": call_sum, "put_sum": put_sum}


def sor(inp, n, max_iterations, epsilon):
    A = inp["A"]
    B = A.copy()  # same fixed edges; interiors alternate
    f = scalars(A.dtype, f=0.2)["f"]
    change = np.empty((n, n), A.dtype)
    delta = float("inf")
    sweeps = 0
    while sweeps < max_iterations and delta >= epsilon:
        c = A[1:-1, 1:-1]
        new = B[1:-1, 1:-1]
        ne.evaluate("f * (c + no + so + we + ea)", out=new,
                    local_dict=dict(f=f, c=c, no=A[:-2, 1:-1], so=A[2:, 1:-1], we=A[1:-1, :-2], ea=A[1:-1, 2:]))
        ne.evaluate("abs(new - c)", out=change, local_dict=dict(new=new, c=c))
        delta = float(np.sum(change, dtype=np.float64))
        A, B = B, A
        sweeps += 1
    return {"sweeps": sweeps, "last_delta": delta, "sum": float(np.sum(A, dtype=np.float64))}


def red_black_sor(inp, n, iterations, omega):
    A = inp["A"]
    k = scalars(A.dtype, a=1.0 - omega, b=omega * 0.25)
    for _ in range(iterations):
        for color in (0, 1):
            for i0 in (1, 2):
                j0 = 1 + ((i0 + 1 + color) % 2)
                c = A[i0:n + 1:2, j0:n + 1:2]
                c[...] = E("a * c + b * (no + so + we + ea)", a=k["a"], b=k["b"], c=c,
                           no=A[i0 - 1:n:2, j0:n + 1:2], so=A[i0 + 1:n + 2:2, j0:n + 1:2],
                           we=A[i0:n + 1:2, j0 - 1:n:2], ea=A[i0:n + 1:2, j0 + 1:n + 2:2])
    return {"sum": float(np.sum(A, dtype=np.float64))}


def shallow_water(inp, n, steps, dt, dx, dy, g):
    H, U, V = inp["H"], inp["U"], inp["V"]
    k = scalars(H.dtype, two=2.0, c1=dt / (2 * dx), c2=dt / (2 * dy), gh=g / 2, cx=dt / dx, cy=dt / dy)
    for _ in range(steps):
        H[:, 0] = H[:, 1];   U[:, 0] = U[:, 1];    V[:, 0] = -V[:, 1]
        H[:, -1] = H[:, -2]; U[:, -1] = U[:, -2];  V[:, -1] = -V[:, -2]
        H[0, :] = H[1, :];   U[0, :] = -U[1, :];   V[0, :] = V[1, :]
        H[-1, :] = H[-2, :]; U[-1, :] = -U[-2, :]; V[-1, :] = V[-2, :]

        xs = dict(H1=H[1:, 1:-1], H0=H[:-1, 1:-1], U1=U[1:, 1:-1], U0=U[:-1, 1:-1],
                  V1=V[1:, 1:-1], V0=V[:-1, 1:-1], **k)
        Hx = E("(H1 + H0) / two - c1 * (U1 - U0)", **xs)
        Ux = E("(U1 + U0) / two - c1 * ((U1**2 / H1 + gh * H1**2) - (U0**2 / H0 + gh * H0**2))", **xs)
        Vx = E("(V1 + V0) / two - c1 * ((U1 * V1 / H1) - (U0 * V0 / H0))", **xs)
        ys = dict(H1=H[1:-1, 1:], H0=H[1:-1, :-1], U1=U[1:-1, 1:], U0=U[1:-1, :-1],
                  V1=V[1:-1, 1:], V0=V[1:-1, :-1], **k)
        Hy = E("(H1 + H0) / two - c2 * (V1 - V0)", **ys)
        Uy = E("(U1 + U0) / two - c2 * ((V1 * U1 / H1) - (V0 * U0 / H0))", **ys)
        Vy = E("(V1 + V0) / two - c2 * ((V1**2 / H1 + gh * H1**2) - (V0**2 / H0 + gh * H0**2))", **ys)

        hs = dict(Hc=H[1:-1, 1:-1], Uc=U[1:-1, 1:-1], Vc=V[1:-1, 1:-1],
                  Ux1=Ux[1:, :], Ux0=Ux[:-1, :], Vx1=Vx[1:, :], Vx0=Vx[:-1, :], Hx1=Hx[1:, :], Hx0=Hx[:-1, :],
                  Vy1=Vy[:, 1:], Vy0=Vy[:, :-1], Uy1=Uy[:, 1:], Uy0=Uy[:, :-1], Hy1=Hy[:, 1:], Hy0=Hy[:, :-1], **k)
        # Each new field goes to a fresh array first (numexpr output must not alias an input).
        H[1:-1, 1:-1] = E("Hc - cx * (Ux1 - Ux0) - cy * (Vy1 - Vy0)", **hs)
        U[1:-1, 1:-1] = E("Uc - cx * ((Ux1**2 / Hx1 + gh * Hx1**2) - (Ux0**2 / Hx0 + gh * Hx0**2))"
                          " - cy * ((Vy1 * Uy1 / Hy1) - (Vy0 * Uy0 / Hy0))", **hs)
        V[1:-1, 1:-1] = E("Vc - cx * ((Ux1 * Vx1 / Hx1) - (Ux0 * Vx0 / Hx0))"
                          " - cy * ((Vy1**2 / Hy1 + gh * Hy1**2) - (Vy0**2 / Hy0 + gh * Hy0**2))", **hs)
    return {"h_sum": float(np.sum(H, dtype=np.float64)),
            "energy": float(np.sum(E("U * U + V * V", U=U, V=V), dtype=np.float64))}


def nbody(inp, n, steps, dt, G, eps):
    x, y, z, m = inp["x"], inp["y"], inp["z"], inp["m"]
    t = x.dtype
    k = scalars(t, e2=eps * eps, G=G, dt=dt)
    Gm = (k["G"] * m)[None, :]
    vx, vy, vz = (np.zeros(n, t) for _ in range(3))
    for _ in range(steps):
        v = dict(xr=x[None, :], xc=x[:, None], yr=y[None, :], yc=y[:, None], zr=z[None, :], zc=z[:, None])
        r2 = E("(xr - xc) * (xr - xc) + (yr - yc) * (yr - yc) + (zr - zc) * (zr - zc) + e2", e2=k["e2"], **v)
        w = E("Gm / (r2 * sqrt(r2))", Gm=Gm, r2=r2)
        del r2
        vx = vx + k["dt"] * np.sum(E("(xr - xc) * w", w=w, **v), axis=1)
        vy = vy + k["dt"] * np.sum(E("(yr - yc) * w", w=w, **v), axis=1)
        vz = vz + k["dt"] * np.sum(E("(zr - zc) * w", w=w, **v), axis=1)
        del w
        x, y, z = x + k["dt"] * vx, y + k["dt"] * vy, z + k["dt"] * vz
    kinetic = 0.5 * np.sum(m * (vx * vx + vy * vy + vz * vz), dtype=np.float64)
    return {"x_sum": float(np.sum(x, dtype=np.float64)), "y_sum": float(np.sum(y, dtype=np.float64)),
            "z_sum": float(np.sum(z, dtype=np.float64)), "kinetic": float(kinetic)}


def gmm_em(inp, n, d, k, iterations):
    X, mu, var, w = inp["X"], inp["mu"], inp["var"], inp["w"]
    t = X.dtype
    c = scalars(t, twopi=2 * np.pi, half=0.5, tiny=1e-10, floor=1e-6)
    logliks = []
    for _ in range(iterations):
        # E-step: sum over d of log(2 pi var) + (x - mu)^2 / var, one n x k pass per dimension.
        l2pv = np.log(c["twopi"] * var)
        acc = None
        for j in range(d):
            v = dict(xj=X[:, j:j + 1], mj=mu[None, :, j], vj=var[None, :, j], lj=l2pv[None, :, j])
            if acc is None:
                acc = E("lj + (xj - mj) * (xj - mj) / vj", **v)
            else:
                acc = E("acc + (lj + (xj - mj) * (xj - mj) / vj)", acc=acc, **v)
        logp = E("lw - half * acc", lw=np.log(w)[None, :], half=c["half"], acc=acc)
        top = np.max(logp, axis=1)[:, None]
        s = np.sum(E("exp(logp - top)", logp=logp, top=top), axis=1)[:, None]
        lse = E("top + log(s)", top=top, s=s)
        resp = E("exp(logp - lse)", logp=logp, lse=lse)
        logliks.append(float(np.sum(lse, dtype=np.float64)))
        # M-step.
        nk = np.sum(resp, axis=0) + c["tiny"]
        w = nk / n
        mu = (resp.T @ X) / nk[:, None]
        sv = np.empty((k, d), t)
        for j in range(d):
            sv[:, j] = np.sum(E("resp * (xj - mj) * (xj - mj)", resp=resp, xj=X[:, j:j + 1], mj=mu[None, :, j]), axis=0)
        var = sv / nk[:, None] + c["floor"]
    return {"loglik_first": logliks[0], "loglik_last": logliks[-1],
            "mu_abs_sum": float(np.sum(np.abs(mu), dtype=np.float64)), "var_sum": float(np.sum(var, dtype=np.float64))}


WORKLOADS = {f.__name__: f for f in (black_scholes, sor, red_black_sor, shallow_water, nbody, gmm_em)}
