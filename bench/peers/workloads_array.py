"""The standard workloads of reference.py written once against a small array backend.

Every expression is the reference's, in the reference's order, so with the NumPy backend the
float64 outputs are the reference's bit for bit (in float32 the Python-float constants are cast
to float32 by NumPy 2's promotion rules, as in the reference run with dtype=float32). The NumPy
peer (workloads_numpy.py) runs them on `Backend`; the GPU peers (gpu_peers.py) on CuPy and
PyTorch backends, which differ only in the backend table.
"""
import math

import numpy as np

try:
    from scipy.special import erfc as _erfc
    ERFC_NOTE = "erfc from scipy.special"
except ImportError:  # the reference's fallback: slow but exact enough
    _erfc = np.vectorize(math.erfc, otypes=[np.float64])
    ERFC_NOTE = "erfc via np.vectorize(math.erfc) (scipy missing: slow)"


class Backend:
    """The array operations the workloads use, for one library."""
    name = "numpy"
    xp = np

    def asarray(self, a):
        return self.xp.asarray(a)

    def sum64(self, a):
        return float(self.xp.sum(a, dtype=self.xp.float64))

    def sum(self, a, axis):
        return self.xp.sum(a, axis=axis)

    def max(self, a, axis):
        return self.xp.max(a, axis=axis)

    def zeros_like(self, a):
        return self.xp.zeros_like(a)

    def erfc(self, a):
        return _erfc(a)

    def fn(self, name):
        """An elementwise function of the library (sqrt, log, exp, abs)."""
        return getattr(self.xp, name)

    def sync(self):
        pass

    def versions(self):
        out = {"numpy": np.__version__}
        try:
            import scipy
            out["scipy"] = scipy.__version__
        except ImportError:
            out["scipy"] = None
        return out


# ------------------------------------------------------------------ workloads (reference.py's)
def black_scholes(b, inp, n, iterations):
    S, X, T = inp["S"], inp["X"], inp["T"]
    sqrt, log, exp = b.fn("sqrt"), b.fn("log"), b.fn("exp")
    R, V = 0.02, 0.30
    call_sum = put_sum = 0.0
    for it in range(iterations):
        r = R * (1.0 + it / max(iterations, 1) * 0.01)
        sqrtT = sqrt(T)
        d1 = (log(S / X) + (r + 0.5 * V * V) * T) / (V * sqrtT)
        d2 = d1 - V * sqrtT
        cnd1 = 0.5 * b.erfc(-d1 / math.sqrt(2.0))
        cnd2 = 0.5 * b.erfc(-d2 / math.sqrt(2.0))
        expRT = exp(-r * T)
        call = S * cnd1 - X * expRT * cnd2
        put = X * expRT * (1.0 - cnd2) - S * (1.0 - cnd1)
        call_sum += b.sum64(call)
        put_sum += b.sum64(put)
    return {"call_sum": call_sum, "put_sum": put_sum}


def sor(b, inp, n, max_iterations, epsilon):
    A = inp["A"]
    absf = b.fn("abs")
    center = A[1:-1, 1:-1]
    north, south = A[:-2, 1:-1], A[2:, 1:-1]
    west, east = A[1:-1, :-2], A[1:-1, 2:]
    delta = float("inf")
    sweeps = 0
    while sweeps < max_iterations and delta >= epsilon:
        work = 0.2 * (center + north + south + west + east)
        delta = b.sum64(absf(work - center))
        center[:] = work
        sweeps += 1
    return {"sweeps": sweeps, "last_delta": delta, "sum": b.sum64(A)}


def red_black_sor(b, inp, n, iterations, omega):
    A = inp["A"]
    for _ in range(iterations):
        for color in (0, 1):
            for i0 in (1, 2):
                j0 = 1 + ((i0 + 1 + color) % 2)
                c = A[i0:n + 1:2, j0:n + 1:2]
                nb = (A[i0 - 1:n:2, j0:n + 1:2] + A[i0 + 1:n + 2:2, j0:n + 1:2]
                      + A[i0:n + 1:2, j0 - 1:n:2] + A[i0:n + 1:2, j0 + 1:n + 2:2])
                c[:] = (1.0 - omega) * c + omega * 0.25 * nb
    return {"sum": b.sum64(A)}


def shallow_water_interiors(H, U, V, dt, dx, dy, g):
    """One step's new interiors of H, U and V (walls already set): the reference's half steps
    in x and y and its update, expression for expression. Pure (reads only), so the JAX peer,
    whose arrays are immutable, computes them with the same code."""
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

    h = (H[1:-1, 1:-1] - (dt / dx) * (Ux[1:, :] - Ux[:-1, :])
         - (dt / dy) * (Vy[:, 1:] - Vy[:, :-1]))
    u = (U[1:-1, 1:-1]
         - (dt / dx) * ((Ux[1:, :] ** 2 / Hx[1:, :] + g / 2 * Hx[1:, :] ** 2)
                        - (Ux[:-1, :] ** 2 / Hx[:-1, :] + g / 2 * Hx[:-1, :] ** 2))
         - (dt / dy) * ((Vy[:, 1:] * Uy[:, 1:] / Hy[:, 1:])
                        - (Vy[:, :-1] * Uy[:, :-1] / Hy[:, :-1])))
    v = (V[1:-1, 1:-1]
         - (dt / dx) * ((Ux[1:, :] * Vx[1:, :] / Hx[1:, :])
                        - (Ux[:-1, :] * Vx[:-1, :] / Hx[:-1, :]))
         - (dt / dy) * ((Vy[:, 1:] ** 2 / Hy[:, 1:] + g / 2 * Hy[:, 1:] ** 2)
                        - (Vy[:, :-1] ** 2 / Hy[:, :-1] + g / 2 * Hy[:, :-1] ** 2)))
    return h, u, v


def shallow_water(b, inp, n, steps, dt, dx, dy, g):
    H, U, V = inp["H"], inp["U"], inp["V"]
    for _ in range(steps):
        H[:, 0] = H[:, 1];   U[:, 0] = U[:, 1];    V[:, 0] = -V[:, 1]
        H[:, -1] = H[:, -2]; U[:, -1] = U[:, -2];  V[:, -1] = -V[:, -2]
        H[0, :] = H[1, :];   U[0, :] = -U[1, :];   V[0, :] = V[1, :]
        H[-1, :] = H[-2, :]; U[-1, :] = -U[-2, :]; V[-1, :] = V[-2, :]
        # Each new interior reads only its own array's old interior and the faces, so writing
        # all three after computing them gives the reference's values.
        H[1:-1, 1:-1], U[1:-1, 1:-1], V[1:-1, 1:-1] = shallow_water_interiors(H, U, V, dt, dx, dy, g)
    return {"h_sum": b.sum64(H), "energy": b.sum64(U * U + V * V)}


def nbody(b, inp, n, steps, dt, G, eps):
    x, y, z, m = inp["x"], inp["y"], inp["z"], inp["m"]
    sqrt = b.fn("sqrt")
    vx, vy, vz = (b.zeros_like(x) for _ in range(3))
    for _ in range(steps):
        dx = x[None, :] - x[:, None]
        dy = y[None, :] - y[:, None]
        dz = z[None, :] - z[:, None]
        r2 = dx * dx + dy * dy + dz * dz + eps * eps
        w = G * m[None, :] / (r2 * sqrt(r2))
        vx = vx + dt * b.sum(dx * w, 1)
        vy = vy + dt * b.sum(dy * w, 1)
        vz = vz + dt * b.sum(dz * w, 1)
        x, y, z = x + dt * vx, y + dt * vy, z + dt * vz
    kinetic = 0.5 * b.sum64(m * (vx * vx + vy * vy + vz * vz))
    return {"x_sum": b.sum64(x), "y_sum": b.sum64(y), "z_sum": b.sum64(z), "kinetic": kinetic}


def gmm_em(b, inp, n, d, k, iterations):
    X, mu, var, w = inp["X"], inp["mu"], inp["var"], inp["w"]
    log, exp, absf = b.fn("log"), b.fn("exp"), b.fn("abs")
    logliks = []
    for _ in range(iterations):
        diff = X[:, None, :] - mu[None, :, :]
        logp = (log(w)[None, :]
                - 0.5 * b.sum(log(2 * np.pi * var)[None, :, :] + diff * diff / var[None, :, :], 2))
        top = b.max(logp, 1)
        lse = top + log(b.sum(exp(logp - top[:, None]), 1))
        resp = exp(logp - lse[:, None])
        logliks.append(b.sum64(lse))
        nk = b.sum(resp, 0) + 1e-10
        w = nk / n
        mu = b.sum(resp[:, :, None] * X[:, None, :], 0) / nk[:, None]
        dev = X[:, None, :] - mu[None, :, :]
        var = b.sum(resp[:, :, None] * dev * dev, 0) / nk[:, None] + 1e-6
    return {"loglik_first": logliks[0], "loglik_last": logliks[-1],
            "mu_abs_sum": b.sum64(absf(mu)), "var_sum": b.sum64(var)}


WORKLOAD_FUNCTIONS = {f.__name__: f for f in (black_scholes, sor, red_black_sor, shallow_water, nbody, gmm_em)}
