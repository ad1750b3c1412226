#!/usr/bin/env python3
"""Runs the NumPy versions of the Examples gallery (Examples/*.swift, one .py here each).

Usage:
  python3 run_examples.py NAME [k=v ...]    run one example, print JSON: name, params, outputs, seconds
  python3 run_examples.py NAME --small      the same at the small size (the size CI checks)
  python3 run_examples.py --list            the examples with their parameters
  python3 run_examples.py --expected        recompute expected.json (every example, small size)
  python3 run_examples.py --check           compare every small case with expected.json

The defaults of each run() are the medium size; SMALL holds the small size's parameters (the
same as `small` in Examples/Examples.swift).
"""
import importlib
import inspect
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

NAMES = ("heat", "kmeans", "logistic_regression", "mandelbrot", "asian_option", "fir_filter", "life", "cavity_flow", "image",
         "softmax_regression", "edge_detection", "spectrum", "allen_cahn", "nbody", "advection", "power_iteration")

SMALL = {
    "heat": {"n": 12, "tolerance": 1e-5, "max_iterations": 1000, "check_every": 5},
    "kmeans": {"n": 600, "d": 2, "k": 4, "max_iterations": 20},
    "logistic_regression": {"n": 1000, "d": 4, "epochs": 15},
    "mandelbrot": {"width": 60, "height": 40, "max_iterations": 30},
    "asian_option": {"paths": 2000, "steps": 12},
    "fir_filter": {"n": 2000, "taps": 31},
    "life": {"n": 32, "steps": 20},
    "cavity_flow": {"n": 17, "steps": 20, "poisson_iterations": 20},
    "image": {"width": 64, "height": 48},
    "softmax_regression": {"n": 600, "d": 4, "k": 3, "epochs": 20},
    "edge_detection": {"height": 40, "width": 56},
    "spectrum": {"n": 128},
    "allen_cahn": {"n": 32, "steps": 20},
    "nbody": {"n": 32, "steps": 20},
    "advection": {"n": 64, "steps": 40, "check_every": 10},
    "power_iteration": {"n": 16, "iterations": 20},
}


def defaults(name):
    sig = inspect.signature(importlib.import_module(name).run)
    return {k: p.default for k, p in sig.parameters.items()}


def full_params(name, params):
    out = defaults(name)
    for k, v in params.items():
        if k not in out:
            raise SystemExit(f"run_examples: unknown parameter '{k}' for {name}; it takes {', '.join(out)}")
        out[k] = int(v) if isinstance(out[k], int) and float(v) == int(float(v)) else float(v)
    return out


def run(name, params):
    p = full_params(name, params)
    fn = importlib.import_module(name).run
    start = time.perf_counter()
    outputs = fn(**p)
    seconds = time.perf_counter() - start
    return {"example": name, "params": p, "outputs": {k: float(v) for k, v in outputs.items()}, "seconds": seconds}


def parse(items):
    params = {}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep:
            raise SystemExit(f"run_examples: malformed parameter '{item}': expected name=value")
        params[k] = float(v.replace("_", ""))
    return params


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[0] == "--list":
        for name in NAMES:
            print(name, " ".join(f"{k}={v}" for k, v in defaults(name).items()))
        return 0
    path = os.path.join(HERE, "expected.json")
    if argv[0] == "--expected":
        cases = [run(name, SMALL[name]) for name in NAMES]
        with open(path, "w") as f:
            json.dump({"cases": [{"example": c["example"], "params": c["params"], "outputs": c["outputs"]} for c in cases]}, f, indent=1)
            f.write("\n")
        print(f"wrote {path}: {len(cases)} cases")
        return 0
    if argv[0] == "--check":
        bad = 0
        for case in json.load(open(path))["cases"]:
            got = run(case["example"], case["params"])["outputs"]
            for k, want in case["outputs"].items():
                if not math.isclose(got[k], want, rel_tol=1e-12, abs_tol=0.0):
                    print(f"{case['example']} {k}: {got[k]} vs {want}")
                    bad += 1
        print("pass" if bad == 0 else f"{bad} mismatches")
        return 1 if bad else 0
    name = argv[0]
    if name not in NAMES:
        raise SystemExit(f"run_examples: unknown example '{name}'; try one of {', '.join(NAMES)}")
    rest = argv[1:]
    params = dict(SMALL[name]) if "--small" in rest else {}
    params.update(parse([a for a in rest if a != "--small"]))
    print(json.dumps(run(name, params)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
