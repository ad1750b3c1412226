#!/usr/bin/env python3
"""Race the project's peers (NumPy, numexpr, Numba, JAX) on the standard workloads.

  python3 bench/peers/run_peers.py --size small|medium|large --dtype f64|f32
      [--peers numpy,numexpr,numba,jax] [--workloads a,b] [--repeats K] [--no-check] [--json]

For every available peer and workload: inputs are built with NumPy outside the timer
(common.make_inputs, the reference's SplitMix64 generator) and handed to the peer's
prepare() (copies, or device_put for JAX), also outside the timer; one warm-up run; then
K timed runs of the computation alone (JAX results are block_until_ready'd), of which
the median is reported. For numba and jax the warm-up's extra time over that median is
reported as compile_seconds. Outputs are checked against the reference's float64
outputs: within a relative 1e-8 for f64 runs, 1e-4 for f32 runs. Reference values come
from expected.json (a copy of the project's) where its parameters match, else from the
cache bench/peers/.cache/reference.json, else are computed by reference.py (a verbatim
copy of the project's NumPy float64 reference) in this run and cached.

Nothing is installed: a peer whose package is missing is listed under "missing" with the
pip command that installs it, and the other peers still run.
"""
import argparse
import gc
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import common  # noqa: E402

PEERS = ("numpy", "numexpr", "numba", "jax")
COMPILED = ("numba", "jax")
TOLERANCE = {"f64": 1e-8, "f32": 1e-4}
CACHE_DIR = os.path.join(HERE, ".cache")
CACHE_FILE = os.path.join(CACHE_DIR, "reference.json")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ peers
def load_peer(name):
    """The peer module, or None with the install hint when its package is missing."""
    try:
        module = importlib.import_module(f"workloads_{name}")
    except ImportError:
        module = None
    if module is None or not module.AVAILABLE:
        install = module.INSTALL if module is not None else f"pip install {name}"
        return None, {"peer": name, "available": False, "install": install}
    return module, None


# ------------------------------------------------------------------ machine
def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    return None


def machine(modules):
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    packages = {}
    for name in PEERS:
        module = modules.get(name)
        if module is None:
            packages[name] = None
        else:
            packages.update(module.versions())
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": usable,
            "memory_gib": memory_gib(), "platform": platform.platform(),
            "python": platform.python_version(), "packages": packages}


# ------------------------------------------------------------------ reference values
def _key(workload, params):
    return workload + " " + json.dumps(params, sort_keys=True)


def _load_cache():
    try:
        with open(CACHE_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _save_cache(cache):
    os.makedirs(CACHE_DIR, exist_ok=True)
    tmp = CACHE_FILE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cache, f, indent=1, sort_keys=True)
    os.replace(tmp, CACHE_FILE)


def reference_outputs(workload, params):
    """(outputs, source) of the float64 reference at these (full) parameters."""
    for case in common.load_expected():
        if case["workload"] == workload and common.full_params(workload, case["params"]) == params:
            return case["outputs"], "expected.json"
    cache = _load_cache()
    key = _key(workload, params)
    if key in cache:
        return cache[key]["outputs"], "cache"
    import reference
    log(f"  computing the float64 reference of {workload} {params} with reference.py ...")
    t0 = time.perf_counter()
    outputs = reference.WORKLOADS[workload](**params)
    secs = time.perf_counter() - t0
    cache = _load_cache()
    cache[key] = {"outputs": outputs, "seconds": secs}
    _save_cache(cache)
    return outputs, f"computed by reference.py in {secs:.2f} s"


def compare(outputs, want, tol):
    worst = 0.0
    for k, w in want.items():
        g = outputs.get(k)
        if g is None or not math.isfinite(float(g)):
            return "fail", float("inf")
        err = abs(float(g) - float(w)) / max(abs(float(w)), 1e-300)
        worst = max(worst, err)
    return ("pass" if worst <= tol else "fail"), worst


# ------------------------------------------------------------------ timing
def time_peer(module, workload, inputs, params, repeats):
    fn = module.WORKLOADS[workload]
    state = module.prepare(workload, inputs)
    t0 = time.perf_counter()
    outputs = fn(state, **params)
    warm = time.perf_counter() - t0
    del state
    times = []
    for _ in range(repeats):
        gc.collect()
        state = module.prepare(workload, inputs)
        t0 = time.perf_counter()
        outputs = fn(state, **params)
        times.append(time.perf_counter() - t0)
        del state
    return outputs, warm, times


def run(args):
    dtype = common.DTYPES[args.dtype]
    peer_names = [p.strip() for p in args.peers.split(",") if p.strip()]
    for p in peer_names:
        if p not in PEERS:
            raise SystemExit(f"unknown peer {p!r}; peers: {', '.join(PEERS)}")
    workloads = ([w.strip() for w in args.workloads.split(",") if w.strip()]
                 if args.workloads else list(common.WORKLOAD_NAMES))
    for w in workloads:
        if w not in common.WORKLOAD_NAMES:
            raise SystemExit(f"unknown workload {w!r}; workloads: {', '.join(common.WORKLOAD_NAMES)}")

    modules, missing = {}, []
    for p in peer_names:
        module, miss = load_peer(p)
        if module is None:
            missing.append(miss)
            log(f"peer {p} is not available ({miss['install']})")
        else:
            modules[p] = module

    results = []
    for w in workloads:
        params = common.full_params(w, common.SIZES[args.size][w])
        want, source, tol = None, None, TOLERANCE[args.dtype]
        if not args.no_check:
            want, source = reference_outputs(w, params)
        inputs = common.make_inputs(w, params, dtype)
        for p, module in modules.items():
            log(f"{w} [{p}, {args.dtype}] ...")
            entry = {"peer": p, "workload": w, "params": params, "seconds": None,
                     "compile_seconds": None, "warmup_seconds": None, "repeats": args.repeats,
                     "outputs": None, "check": "skipped", "note": module.note(w)}
            try:
                outputs, warm, times = time_peer(module, w, inputs, params, args.repeats)
            except Exception as e:  # a peer failing is a result, not the end of the race
                entry["check"] = "fail"
                entry["note"] = (entry["note"] + "; " if entry["note"] else "") + f"error: {type(e).__name__}: {e}"
                results.append(entry)
                log(f"  error: {type(e).__name__}: {e}")
                continue
            median = statistics.median(times) if times else warm
            entry.update(seconds=median, warmup_seconds=warm, times=times, outputs=outputs)
            if p in COMPILED:
                entry["compile_seconds"] = max(0.0, warm - median)
            if want is not None:
                entry["check"], entry["max_rel_error"] = compare(outputs, want, tol)
                entry["reference"] = source
            results.append(entry)
            log(f"  {median:.4f} s (warm-up {warm:.3f} s) check {entry['check']}")
        del inputs
        gc.collect()
    return {"machine": machine(modules), "size": args.size, "dtype": args.dtype,
            "tolerance": None if args.no_check else TOLERANCE[args.dtype],
            "results": results, "missing": missing}


def table(report):
    m = report["machine"]
    lines = [f"{m['cpu']}, {m['cores']} cores, Python {m['python']}",
             "  " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v is not None and not isinstance(v, list)),
             f"size {report['size']}, dtype {report['dtype']}", ""]
    head = f"{'workload':<14} {'peer':<8} {'seconds':>10} {'compile':>9} {'check':<7} {'rel.err':>9}  note"
    lines += [head, "-" * len(head)]
    for r in report["results"]:
        secs = f"{r['seconds']:.4f}" if r["seconds"] is not None else "-"
        comp = f"{r['compile_seconds']:.2f}" if r["compile_seconds"] is not None else "-"
        err = f"{r['max_rel_error']:.1e}" if r.get("max_rel_error") is not None else "-"
        lines.append(f"{r['workload']:<14} {r['peer']:<8} {secs:>10} {comp:>9} {r['check']:<7} {err:>9}  {r['note']}")
    for miss in report["missing"]:
        lines.append(f"missing: {miss['peer']} (install: {miss['install']})")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(common.SIZES), default="small")
    ap.add_argument("--dtype", choices=sorted(common.DTYPES), default="f64")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ",".join(PEERS))
    ap.add_argument("--workloads", default="", help="comma-separated subset of " + ",".join(common.WORKLOAD_NAMES))
    ap.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up (median reported)")
    ap.add_argument("--no-check", action="store_true", help="skip the reference check (no reference run)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    report = run(args)
    print(json.dumps(report, indent=1) if args.json else table(report))
    return 0 if all(r["check"] != "fail" for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
