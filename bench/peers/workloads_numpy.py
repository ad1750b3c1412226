"""NumPy peer: a straight port of reference.py, with the input construction taken out
(inputs come ready-made from common.make_inputs, outside the timer).

Every expression is the reference's, in the reference's order, so in float64 the outputs
are the reference's bit for bit; in float32 the Python-float constants are cast to float32
by NumPy 2's promotion rules, as in the reference run with dtype=float32.
"""
import math

import numpy as np

NAME = "numpy"
INSTALL = "pip install numpy scipy"
AVAILABLE = True

try:
    from scipy.special import erfc as _erfc
    ERFC_NOTE = "erfc from scipy.special"
except ImportError:  # the reference's fallback: slow but exact enough
    _erfc = np.vectorize(math.erfc, otypes=[np.float64])
    ERFC_NOTE = "erfc via np.vectorize(math.erfc) (scipy missing: slow)"


def versions():
    out = {"numpy": np.__version__}
    try:
        import scipy
        out["scipy"] = scipy.__version__
    except ImportError:
        out["scipy"] = None
    return out


def prepare(workload, inputs):
    """Fresh copies (the grid workloads update their arrays in place)."""
    return {k: v.copy() for k, v in inputs.items()}


def note(workload):
    return ERFC_NOTE if workload == "black_scholes" else ""


def erfc(x):
    return _erfc(x)


def black_scholes(inp, n, iterations):
    S, X, T = inp["S"], inp["X"], inp["T"]
    R, V = 0.02, 0.30
    call_sum = put_sum = 0.0
    for it in range(iterations):
        r = R * (1.0 + it / max(iterations, 1) * 0.01)
        sqrtT = np.sqrt(T)
        d1 = (np.log(S / X) + (r + 0.5 * V * V) * T) / (V * sqrtT)
        d2 = d1 - V * sqrtT
        cnd1 = 0.5 * erfc(-d1 / math.sqrt(2.0))
        cnd2 = 0.5 * erfc(-d2 / math.sqrt(2.0))
        expRT = np.exp(-r * T)
        call = S * cnd1 - X * expRT * cnd2
        put = X * expRT * (1.0 - cnd2) - S * (1.0 - cnd1)
        call_sum += float(np.sum(call, dtype=np.float64))
        put_sum += float(np.sum(put, dtype=np.float64))
    return {"call_sum": call_sum, "put_sum": put_sum}


def sor(inp, n, max_iterations, epsilon):
    A = inp["A"]
    center = A[1:-1, 1:-1]
    north, south = A[:-2, 1:-1], A[2:, 1:-1]
    west, east = A[1:-1, :-2], A[1:-1, 2:]
    delta = float("inf")
    sweeps = 0
    while sweeps < max_iterations and delta >= epsilon:
        work = 0.2 * (center + north + south + west + east)
        delta = float(np.sum(np.abs(work - center), dtype=np.float64))
        center[:] = work
        sweeps += 1
    return {"sweeps": sweeps, "last_delta": delta, "sum": float(np.sum(A, dtype=np.float64))}


def red_black_sor(inp, n, iterations, omega):
    A = inp["A"]
    for _ in range(iterations):
        for color in (0, 1):
            for i0 in (1, 2):
                j0 = 1 + ((i0 + 1 + color) % 2)
                c = A[i0:n + 1:2, j0:n + 1:2]
                nb = (A[i0 - 1:n:2, j0:n + 1:2] + A[i0 + 1:n + 2:2, j0:n + 1:2]
                      + A[i0:n + 1:2, j0 - 1:n:2] + A[i0:n + 1:2, j0 + 1:n + 2:2])
                c[:] = (1.0 - omega) * c + omega * 0.25 * nb
    return {"sum": float(np.sum(A, dtype=np.float64))}


def shallow_water(inp, n, steps, dt, dx, dy, g):
    H, U, V = inp["H"], inp["U"], inp["V"]
    for _ in range(steps):
        H[:, 0] = H[:, 1];   U[:, 0] = U[:, 1];    V[:, 0] = -V[:, 1]
        H[:, -1] = H[:, -2]; U[:, -1] = U[:, -2];  V[:, -1] = -V[:, -2]
        H[0, :] = H[1, :];   U[0, :] = -U[1, :];   V[0, :] = V[1, :]
        H[-1, :] = H[-2, :]; U[-1, :] = -U[-2, :]; V[-1, :] = V[-2, :]

        Hx = (H[1:, 1:-1] + H[:-1, 1:-1]) / 2 - dt / (2 * dx) * (U[1:, 1:-1] - U[:-1, 1:-1])
        Ux = (U[1:, 1:-1] + U[:-1, 1:-1]) / 2 - dt / (2 * dx) * (
            (U[1:, 1:-1] ** 2 / H[1:, 1:-1] + g / 2 * H[1:, 1:-1] ** 2)
            - (U[:-1, 1:-1] ** 2 / H[:-1, 1:-1] + g / 2 * H[:-1, 1:-1] ** 2))
        Vx = (V[1:, 1:-1] + V[:-1, 1:-1]) / 2 - dt / (2 * dx) * (
            (U[1:, 1:-1] * V[1:, 1:-1] / H[1:, 1:-1])
            - (U[:-1, 1:-1] * V[:-1, 1:-1] / H[:-1, 1:-1]))

        Hy = (H[1:-1, 1:] + H[1:-1, :-1]) / 2 - dt / (2 * dy) * (V[1:-1, 1:] - V[1:-1, :-1])
        Uy = (U[1:-1, 1:] + U[1:-1, :-1]) / 2 - dt / (2 * dy) * (
            (V[1:-1, 1:] * U[1:-1, 1:] / H[1:-1, 1:])
            - (V[1:-1, :-1] * U[1:-1, :-1] / H[1:-1, :-1]))
        Vy = (V[1:-1, 1:] + V[1:-1, :-1]) / 2 - dt / (2 * dy) * (
            (V[1:-1, 1:] ** 2 / H[1:-1, 1:] + g / 2 * H[1:-1, 1:] ** 2)
            - (V[1:-1, :-1] ** 2 / H[1:-1, :-1] + g / 2 * H[1:-1, :-1] ** 2))

        H[1:-1, 1:-1] = (H[1:-1, 1:-1] - (dt / dx) * (Ux[1:, :] - Ux[:-1, :])
                         - (dt / dy) * (Vy[:, 1:] - Vy[:, :-1]))
        U[1:-1, 1:-1] = (U[1:-1, 1:-1]
                         - (dt / dx) * ((Ux[1:, :] ** 2 / Hx[1:, :] + g / 2 * Hx[1:, :] ** 2)
                                        - (Ux[:-1, :] ** 2 / Hx[:-1, :] + g / 2 * Hx[:-1, :] ** 2))
                         - (dt / dy) * ((Vy[:, 1:] * Uy[:, 1:] / Hy[:, 1:])
                                        - (Vy[:, :-1] * Uy[:, :-1] / Hy[:, :-1])))
        V[1:-1, 1:-1] = (V[1:-1, 1:-1]
                         - (dt / dx) * ((Ux[1:, :] * Vx[1:, :] / Hx[1:, :])
                                        - (Ux[:-1, :] * Vx[:-1, :] / Hx[:-1, :]))
                         - (dt / dy) * ((Vy[:, 1:] ** 2 / Hy[:, 1:] + g / 2 * Hy[:, 1:] ** 2)
                                        - (Vy[:, :-1] ** 2 / Hy[:, :-1] + g / 2 * Hy[:, :-1] ** 2)))
    return {"h_sum": float(np.sum(H, dtype=np.float64)),
            "energy": float(np.sum(U * U + V * V, dtype=np.float64))}


def nbody(inp, n, steps, dt, G, eps):
    x, y, z, m = inp["x"], inp["y"], inp["z"], inp["m"]
    dtype = x.dtype
    vx, vy, vz = (np.zeros(n, dtype) for _ in range(3))
    for _ in range(steps):
        dx = x[None, :] - x[:, None]
        dy = y[None, :] - y[:, None]
        dz = z[None, :] - z[:, None]
        r2 = dx * dx + dy * dy + dz * dz + eps * eps
        w = G * m[None, :] / (r2 * np.sqrt(r2))
        vx = vx + dt * np.sum(dx * w, axis=1)
        vy = vy + dt * np.sum(dy * w, axis=1)
        vz = vz + dt * np.sum(dz * w, axis=1)
        x, y, z = x + dt * vx, y + dt * vy, z + dt * vz
    kinetic = 0.5 * np.sum(m * (vx * vx + vy * vy + vz * vz), dtype=np.float64)
    return {"x_sum": float(np.sum(x, dtype=np.float64)), "y_sum": float(np.sum(y, dtype=np.float64)),
            "z_sum": float(np.sum(z, dtype=np.float64)), "kinetic": float(kinetic)}


def gmm_em(inp, n, d, k, iterations):
    X, mu, var, w = inp["X"], inp["mu"], inp["var"], inp["w"]
    logliks = []
    for _ in range(iterations):
        diff = X[:, None, :] - mu[None, :, :]
        logp = (np.log(w)[None, :]
                - 0.5 * np.sum(np.log(2 * np.pi * var)[None, :, :] + diff * diff / var[None, :, :], axis=2))
        top = np.max(logp, axis=1)
        lse = top + np.log(np.sum(np.exp(logp - top[:, None]), axis=1))
        resp = np.exp(logp - lse[:, None])
        logliks.append(float(np.sum(lse, dtype=np.float64)))
        nk = np.sum(resp, axis=0) + 1e-10
        w = nk / n
        mu = np.sum(resp[:, :, None] * X[:, None, :], axis=0) / nk[:, None]
        dev = X[:, None, :] - mu[None, :, :]
        var = np.sum(resp[:, :, None] * dev * dev, axis=0) / nk[:, None] + 1e-6
    return {"loglik_first": logliks[0], "loglik_last": logliks[-1],
            "mu_abs_sum": float(np.sum(np.abs(mu), dtype=np.float64)), "var_sum": float(np.sum(var, dtype=np.float64))}


WORKLOADS = {f.__name__: f for f in (black_scholes, sor, red_black_sor, shallow_water, nbody, gmm_em)}
