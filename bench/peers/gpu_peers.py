#!/usr/bin/env python3
"""GPU peers (CuPy, PyTorch, JAX) on the standard workloads, and the GPU's copy bandwidth.

  python3 bench/peers/gpu_peers.py --size medium --dtype f64 [--peers cupy,torch,jax]
      [--workloads a,b] [--repeats K] [--json] [--backend-check numpy]

The workloads are the reference's (reference.py, via the NumPy peer's port) written once
against a small array backend (`Backend`): CuPy and PyTorch differ only in that table, so the
workload code is checked on any machine with `--backend-check numpy` (the same code on NumPy,
compared with the reference values). JAX is the JAX peer (workloads_jax.py, one jax.jit per
workload), which runs on the GPU when jax has a CUDA backend.

Timing follows run_peers.py: inputs are built with NumPy outside the timer and moved to the
GPU by prepare() (also outside it); one warm-up run (its extra time over the median is the
compile time of JAX; CuPy's kernel compiles show up there too); then K timed runs of the
computation alone, median reported. Every run ends by reading its outputs as Python floats,
which waits for the GPU. Outputs are checked against the float64 reference: relative 1e-8 for
f64, 1e-4 for f32.

--bandwidth measures device-to-device copy bandwidth (CuPy, else PyTorch) with CUDA events:
2 x bytes / time of a 1 GiB copy, best of 10.
"""
import argparse
import json
import math
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import common  # noqa: E402
import run_peers  # noqa: E402


# ------------------------------------------------------------------ backends
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
        from scipy.special import erfc
        return erfc(a)

    def sync(self):
        pass

    def versions(self):
        return {"numpy": np.__version__}


class CuPyBackend(Backend):
    name = "cupy"

    def __init__(self):
        import cupy
        import cupyx.scipy.special
        self.xp = cupy
        self._erfc = cupyx.scipy.special.erfc

    def erfc(self, a):
        return self._erfc(a)

    def sync(self):
        self.xp.cuda.Stream.null.synchronize()

    def versions(self):
        dev = self.xp.cuda.runtime.getDeviceProperties(0)
        return {"cupy": self.xp.__version__, "cupy_device": dev["name"].decode()}


class TorchBackend(Backend):
    """PyTorch in eager mode on `device` ("cuda", or "cpu" to check the code without a GPU)."""
    name = "torch"

    def __init__(self, device="cuda"):
        import torch
        self.torch = torch
        self.device = device
        self.xp = None

    def asarray(self, a):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

    def sum64(self, a):
        return float(self.torch.sum(a, dtype=self.torch.float64))

    def sum(self, a, axis):
        return self.torch.sum(a, dim=axis)

    def max(self, a, axis):
        return self.torch.amax(a, dim=axis)

    def zeros_like(self, a):
        return self.torch.zeros_like(a)

    def erfc(self, a):
        return self.torch.special.erfc(a)

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def versions(self):
        out = {"torch": self.torch.__version__}
        if self.device == "cuda":
            out["torch_device"] = self.torch.cuda.get_device_name(0)
        return out


# The elementwise functions the workloads call, dispatched on the array's library.
def _fn(b, name):
    if isinstance(b, TorchBackend):
        return getattr(b.torch, name)
    return getattr(b.xp, name)


# ------------------------------------------------------------------ workloads (reference.py's)
def black_scholes(b, inp, n, iterations):
    S, X, T = inp["S"], inp["X"], inp["T"]
    sqrt, log, exp = _fn(b, "sqrt"), _fn(b, "log"), _fn(b, "exp")
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
    absf = _fn(b, "abs")
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


def shallow_water(b, inp, n, steps, dt, dx, dy, g):
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
    return {"h_sum": b.sum64(H), "energy": b.sum64(U * U + V * V)}


def nbody(b, inp, n, steps, dt, G, eps):
    x, y, z, m = inp["x"], inp["y"], inp["z"], inp["m"]
    sqrt = _fn(b, "sqrt")
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
    log, exp, absf = _fn(b, "log"), _fn(b, "exp"), _fn(b, "abs")
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


class Peer:
    """A backend as a peer module for run_peers.time_peer (prepare + WORKLOADS)."""

    def __init__(self, backend):
        self.backend = backend
        self.NAME = backend.name
        self.WORKLOADS = {name: (lambda f: lambda inp, **p: f(backend, inp, **p))(f)
                          for name, f in WORKLOAD_FUNCTIONS.items()}

    def prepare(self, workload, inputs):
        out = {k: self.backend.asarray(v.copy()) for k, v in inputs.items()}
        self.backend.sync()
        return out

    def note(self, workload):
        return ""

    def versions(self):
        return self.backend.versions()


def load_peers(names, backend_check):
    peers, missing = {}, []
    for name in names:
        try:
            if backend_check:
                # The GPU peers' workload code on the CPU: rows are named e.g. "cupy@numpy".
                peer = Peer(Backend()) if backend_check == "numpy" else Peer(TorchBackend("cpu"))
                peers[f"{name}@{backend_check}"] = peer
            elif name == "cupy":
                peers[name] = Peer(CuPyBackend())
            elif name == "torch":
                import torch
                if not torch.cuda.is_available():
                    raise ImportError("torch has no CUDA device")
                peers[name] = Peer(TorchBackend("cuda"))
            elif name == "jax":
                import workloads_jax
                if not workloads_jax.AVAILABLE:
                    raise ImportError(workloads_jax.INSTALL)
                peers[name] = workloads_jax
            else:
                raise SystemExit(f"unknown peer {name!r}")
        except ImportError as e:
            missing.append({"peer": name, "available": False, "install": str(e)})
    return peers, missing


# ------------------------------------------------------------------ bandwidth
def copy_bandwidth(nbytes=1 << 30, repeats=10):
    """Device-to-device copy bandwidth in GB/s (read + write), best of `repeats`."""
    try:
        import cupy
        a = cupy.ones(nbytes // 4, dtype=cupy.float32)
        b = cupy.empty_like(a)
        best = math.inf
        for _ in range(repeats):
            start, end = cupy.cuda.Event(), cupy.cuda.Event()
            start.record()
            b[...] = a
            end.record()
            end.synchronize()
            best = min(best, cupy.cuda.get_elapsed_time(start, end) / 1e3)
        return {"tool": "cupy copy", "bytes": nbytes, "gb_per_s": 2 * nbytes / best / 1e9}
    except ImportError:
        import torch
        a = torch.ones(nbytes // 4, dtype=torch.float32, device="cuda")
        b = torch.empty_like(a)
        best = math.inf
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            b.copy_(a)
            end.record()
            end.synchronize()
            best = min(best, start.elapsed_time(end) / 1e3)
        return {"tool": "torch copy_", "bytes": nbytes, "gb_per_s": 2 * nbytes / best / 1e9}


# ------------------------------------------------------------------ race
def run(args):
    dtype = common.DTYPES[args.dtype]
    names = [p.strip() for p in args.peers.split(",") if p.strip()]
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()] or list(common.WORKLOAD_NAMES)
    peers, missing = load_peers(names, args.backend_check)
    results = []
    for w in workloads:
        params = common.full_params(w, common.SIZES[args.size][w])
        want, source = run_peers.reference_outputs(w, params)
        inputs = common.make_inputs(w, params, dtype)
        for name, peer in peers.items():
            run_peers.log(f"{w} [{name}, {args.dtype}] ...")
            entry = {"peer": name, "workload": w, "params": params, "seconds": None, "compile_seconds": None,
                     "check": "skipped", "note": ""}
            try:
                outputs, warm, times = run_peers.time_peer(peer, w, inputs, params, args.repeats)
            except Exception as e:  # a failing peer is a result
                entry.update(check="fail", note=f"error: {type(e).__name__}: {e}")
                results.append(entry)
                run_peers.log(f"  error: {type(e).__name__}: {e}")
                continue
            median = statistics.median(times)
            entry.update(seconds=median, warmup_seconds=warm, times=times, outputs=outputs,
                         compile_seconds=max(0.0, warm - median))
            entry["check"], entry["max_rel_error"] = run_peers.compare(outputs, want, run_peers.TOLERANCE[args.dtype])
            entry["reference"] = source
            results.append(entry)
            run_peers.log(f"  {median:.4f} s (warm-up {warm:.3f} s) check {entry['check']}")
    report = {"size": args.size, "dtype": args.dtype, "results": results, "missing": missing,
              "packages": {n: p.versions() for n, p in peers.items()}}
    if args.bandwidth:
        report["copy_bandwidth"] = copy_bandwidth()
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(common.SIZES), default="small")
    ap.add_argument("--dtype", choices=sorted(common.DTYPES), default="f64")
    ap.add_argument("--peers", default="cupy,torch,jax")
    ap.add_argument("--workloads", default="")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bandwidth", action="store_true", help="also measure device-to-device copy bandwidth")
    ap.add_argument("--backend-check", choices=["numpy", "torch-cpu"], default=None,
                    help="run the CuPy/PyTorch workload code on the CPU (numpy or torch) to check it")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for r in report["results"]:
            secs = f"{r['seconds']:.4f}" if r["seconds"] is not None else "-"
            comp = f"{r['compile_seconds']:.2f}" if r["compile_seconds"] is not None else "-"
            print(f"{r['workload']:<14} {r['peer']:<6} {secs:>10} s  compile {comp:>6} s  {r['check']}  {r.get('max_rel_error', '')} {r['note']}")
        for m in report["missing"]:
            print(f"missing: {m['peer']} ({m['install']})")
        if "copy_bandwidth" in report:
            print(f"device-to-device copy: {report['copy_bandwidth']['gb_per_s']:.0f} GB/s ({report['copy_bandwidth']['tool']})")
    return 0 if all(r["check"] != "fail" for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
