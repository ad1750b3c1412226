#!/usr/bin/env python3
"""GPU peers (CuPy, PyTorch, JAX) on the standard workloads, and the GPU's copy bandwidth.

  python3 bench/peers/gpu_peers.py --size medium --dtype f64 [--peers cupy,torch,jax]
      [--workloads a,b] [--repeats K] [--json] [--backend-check numpy]

The workloads are the reference's, written once against a small array backend
(workloads_array.py, which the NumPy peer runs too): CuPy and PyTorch differ only in that table, so the
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
from workloads_array import Backend, WORKLOAD_FUNCTIONS  # noqa: E402  (the NumPy one and the workloads)


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

    def fn(self, name):
        return getattr(self.torch, name)

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def versions(self):
        out = {"torch": self.torch.__version__}
        if self.device == "cuda":
            out["torch_device"] = self.torch.cuda.get_device_name(0)
        return out


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
