"""JAX peer: each workload as one jax.jit-compiled function (XLA fuses the elementwise
work and the reductions), iterating with lax.fori_loop / lax.while_loop inside the jit.

- black_scholes: fori_loop over the iterations, the per-iteration rates come in as arrays.
- sor: lax.while_loop whose carry holds the grid, the sweep count and the float64 delta
  of the last sweep; the loop tests `sweeps < max_iterations and delta >= epsilon` after
  every sweep, exactly the reference's stopping rule (any epsilon, not only 0); the new
  interior is put in place by _embed (concatenation).
- red_black_sor: fori_loop; each colour updates the reference's strided views with
  .at[...].set (functional updates, done in place by XLA).
- shallow_water: fori_loop over steps, the reference's wall copies verbatim and its half
  steps and update from workloads_array.shallow_water_interiors (the array peers' code);
  the interiors are written back by concatenation (_embed) rather than .at[1:-1, 1:-1].set,
  which XLA:CPU runs markedly slower inside a loop (same values either way).
- nbody: fori_loop over steps with the reference's N x N broadcasting, left to XLA to fuse.
- gmm_em: fori_loop over iterations of the reference's E- and M-steps.

float64 support needs jax_enable_x64; it is switched on when this module is imported,
also for float32 runs, because the reference accumulates every output sum in float64
(jnp.sum(..., dtype=float64)). Float32 arrays stay float32: constants are Python floats
(weakly typed, like NumPy 2's Python scalars), so they never promote the arithmetic.
"""
import math
from functools import partial

import numpy as np

from workloads_array import shallow_water_interiors

NAME = "jax"
INSTALL = 'pip install "jax[cpu]"'
try:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
    from jax.scipy.special import erfc as _erfc
    AVAILABLE = True
except ImportError:  # reported by run_peers.py as missing
    jax = None
    AVAILABLE = False


def versions():
    if not AVAILABLE:
        return {"jax": None}
    import jaxlib
    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "jax_backend": jax.default_backend(), "jax_devices": [str(d) for d in jax.devices()]}


def prepare(workload, inputs):
    """Inputs onto the device (outside the timer)."""
    out = {k: jax.device_put(v) for k, v in inputs.items()}
    jax.block_until_ready(out)
    return out


def note(workload):
    return ""


F64 = np.float64


def _sum64(a):
    return jnp.sum(a, dtype=F64)


def _embed(A, inner):
    """A with its interior A[1:-1, 1:-1] replaced by `inner`: the value of
    A.at[1:-1, 1:-1].set(inner), assembled by concatenation, which XLA:CPU runs about
    twice as fast as the dynamic-update-slice inside a loop."""
    mid = jnp.concatenate([A[1:-1, :1], inner, A[1:-1, -1:]], axis=1)
    return jnp.concatenate([A[:1], mid, A[-1:]], axis=0)


if AVAILABLE:
    @jax.jit
    def _black_scholes(S, X, T, rv, nr):
        V = 0.30

        def body(it, sums):
            call_sum, put_sum = sums
            sqrtT = jnp.sqrt(T)
            d1 = (jnp.log(S / X) + rv[it] * T) / (V * sqrtT)
            d2 = d1 - V * sqrtT
            cnd1 = 0.5 * _erfc(-d1 / math.sqrt(2.0))
            cnd2 = 0.5 * _erfc(-d2 / math.sqrt(2.0))
            expRT = jnp.exp(nr[it] * T)
            call = S * cnd1 - X * expRT * cnd2
            put = X * expRT * (1.0 - cnd2) - S * (1.0 - cnd1)
            return call_sum + _sum64(call), put_sum + _sum64(put)

        zero = jnp.zeros((), F64)
        return lax.fori_loop(0, rv.shape[0], body, (zero, zero))

    @jax.jit
    def _sor(A, max_iterations, epsilon):
        def cond(state):
            _, sweeps, delta = state
            return (sweeps < max_iterations) & (delta >= epsilon)

        def body(state):
            A, sweeps, _ = state
            center = A[1:-1, 1:-1]
            work = 0.2 * (center + A[:-2, 1:-1] + A[2:, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:])
            delta = _sum64(jnp.abs(work - center))
            return _embed(A, work), sweeps + 1, delta

        state = (A, jnp.zeros((), jnp.int64), jnp.full((), jnp.inf, F64))
        A, sweeps, delta = lax.while_loop(cond, body, state)
        return sweeps, delta, _sum64(A)

    @partial(jax.jit, static_argnames=("iterations", "omega"))
    def _red_black_sor(A, iterations, omega):
        n = A.shape[0] - 2

        def body(_, A):
            for color in (0, 1):
                for i0 in (1, 2):
                    j0 = 1 + ((i0 + 1 + color) % 2)
                    c = A[i0:n + 1:2, j0:n + 1:2]
                    nb = (A[i0 - 1:n:2, j0:n + 1:2] + A[i0 + 1:n + 2:2, j0:n + 1:2]
                          + A[i0:n + 1:2, j0 - 1:n:2] + A[i0:n + 1:2, j0 + 1:n + 2:2])
                    A = A.at[i0:n + 1:2, j0:n + 1:2].set((1.0 - omega) * c + omega * 0.25 * nb)
            return A

        return _sum64(lax.fori_loop(0, iterations, body, A))

    @partial(jax.jit, static_argnames=("steps", "dt", "dx", "dy", "g"))
    def _shallow_water(H, U, V, steps, dt, dx, dy, g):
        def body(_, state):
            H, U, V = state
            H = H.at[:, 0].set(H[:, 1]);   U = U.at[:, 0].set(U[:, 1]);    V = V.at[:, 0].set(-V[:, 1])
            H = H.at[:, -1].set(H[:, -2]); U = U.at[:, -1].set(U[:, -2]);  V = V.at[:, -1].set(-V[:, -2])
            H = H.at[0, :].set(H[1, :]);   U = U.at[0, :].set(-U[1, :]);   V = V.at[0, :].set(V[1, :])
            H = H.at[-1, :].set(H[-2, :]); U = U.at[-1, :].set(-U[-2, :]); V = V.at[-1, :].set(V[-2, :])

            h, u, v = shallow_water_interiors(H, U, V, dt, dx, dy, g)
            H, U, V = _embed(H, h), _embed(U, u), _embed(V, v)
            return H, U, V

        H, U, V = lax.fori_loop(0, steps, body, (H, U, V))
        return _sum64(H), _sum64(U * U + V * V)

    @partial(jax.jit, static_argnames=("steps", "dt", "G", "eps"))
    def _nbody(x, y, z, m, steps, dt, G, eps):
        def body(_, state):
            x, y, z, vx, vy, vz = state
            dx = x[None, :] - x[:, None]
            dy = y[None, :] - y[:, None]
            dz = z[None, :] - z[:, None]
            r2 = dx * dx + dy * dy + dz * dz + eps * eps
            w = G * m[None, :] / (r2 * jnp.sqrt(r2))
            vx = vx + dt * jnp.sum(dx * w, axis=1)
            vy = vy + dt * jnp.sum(dy * w, axis=1)
            vz = vz + dt * jnp.sum(dz * w, axis=1)
            return x + dt * vx, y + dt * vy, z + dt * vz, vx, vy, vz

        zeros = jnp.zeros_like(x)
        x, y, z, vx, vy, vz = lax.fori_loop(0, steps, body, (x, y, z, zeros, zeros, zeros))
        kinetic = 0.5 * _sum64(m * (vx * vx + vy * vy + vz * vz))
        return _sum64(x), _sum64(y), _sum64(z), kinetic

    @partial(jax.jit, static_argnames=("iterations",))
    def _gmm_em(X, mu, var, w, iterations):
        n = X.shape[0]

        def body(it, state):
            mu, var, w, logliks = state
            diff = X[:, None, :] - mu[None, :, :]
            logp = (jnp.log(w)[None, :]
                    - 0.5 * jnp.sum(jnp.log(2 * np.pi * var)[None, :, :] + diff * diff / var[None, :, :], axis=2))
            top = jnp.max(logp, axis=1)
            lse = top + jnp.log(jnp.sum(jnp.exp(logp - top[:, None]), axis=1))
            resp = jnp.exp(logp - lse[:, None])
            logliks = logliks.at[it].set(_sum64(lse))
            nk = jnp.sum(resp, axis=0) + 1e-10
            w = nk / n
            mu = jnp.sum(resp[:, :, None] * X[:, None, :], axis=0) / nk[:, None]
            dev = X[:, None, :] - mu[None, :, :]
            var = jnp.sum(resp[:, :, None] * dev * dev, axis=0) / nk[:, None] + 1e-6
            return mu, var, w, logliks

        state = (mu, var, w, jnp.zeros(iterations, F64))
        mu, var, w, logliks = lax.fori_loop(0, iterations, body, state)
        return logliks[0], logliks[-1], _sum64(jnp.abs(mu)), _sum64(var)


def _floats(values):
    return [float(v) for v in jax.block_until_ready(values)]


def black_scholes(inp, n, iterations):
    t = inp["S"].dtype
    R, V = 0.02, 0.30
    rs = [R * (1.0 + it / max(iterations, 1) * 0.01) for it in range(iterations)]
    # The rates are computed in float64 on the host and rounded to the dtype, as NumPy
    # rounds the reference's Python-float rates when they meet float32 arrays.
    rv = jnp.asarray(np.array([r + 0.5 * V * V for r in rs], F64).astype(t))
    nr = jnp.asarray(np.array([-r for r in rs], F64).astype(t))
    call_sum, put_sum = _floats(_black_scholes(inp["S"], inp["X"], inp["T"], rv, nr))
    return {"call_sum": call_sum, "put_sum": put_sum}


def sor(inp, n, max_iterations, epsilon):
    sweeps, delta, total = jax.block_until_ready(_sor(inp["A"], max_iterations, float(epsilon)))
    return {"sweeps": int(sweeps), "last_delta": float(delta), "sum": float(total)}


def red_black_sor(inp, n, iterations, omega):
    (total,) = _floats([_red_black_sor(inp["A"], iterations, float(omega))])
    return {"sum": total}


def shallow_water(inp, n, steps, dt, dx, dy, g):
    h_sum, energy = _floats(_shallow_water(inp["H"], inp["U"], inp["V"], steps,
                                           float(dt), float(dx), float(dy), float(g)))
    return {"h_sum": h_sum, "energy": energy}


def nbody(inp, n, steps, dt, G, eps):
    xs, ys, zs, kinetic = _floats(_nbody(inp["x"], inp["y"], inp["z"], inp["m"], steps,
                                         float(dt), float(G), float(eps)))
    return {"x_sum": xs, "y_sum": ys, "z_sum": zs, "kinetic": kinetic}


def gmm_em(inp, n, d, k, iterations):
    first, last, mu_abs, var_sum = _floats(_gmm_em(inp["X"], inp["mu"], inp["var"], inp["w"], iterations))
    return {"loglik_first": first, "loglik_last": last, "mu_abs_sum": mu_abs, "var_sum": var_sum}


WORKLOADS = {f.__name__: f for f in (black_scholes, sor, red_black_sor, shallow_water, nbody, gmm_em)}
