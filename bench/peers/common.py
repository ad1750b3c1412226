"""Shared pieces of the peers: the input generator, parameter sets and input construction.

`uniform` is the counter-based SplitMix64 generator of reference.py (a verbatim copy of
the reference lives next to this file): element i of stream `seed` is SplitMix64 of
(seed << 32) + i, so inputs are bit-for-bit the same in every peer. Inputs are always
built here, with NumPy, outside any timer, and handed to the peers as NumPy arrays.
"""
import inspect
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


def uniform_bits(seed, count):
    """53-bit integers, one per flat index 0..count-1, for stream `seed`."""
    with np.errstate(over="ignore"):
        z = (np.uint64(seed) << np.uint64(32)) + np.arange(count, dtype=np.uint64)
        z = z + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
        z = z ^ (z >> np.uint64(31))
    return z >> np.uint64(11)


def uniform(seed, shape, lo=0.0, hi=1.0, dtype=np.float64):
    """lo + (hi - lo) * u in float64 (u an exact multiple of 2**-53), then rounded to dtype."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    count = int(np.prod(shape))
    u = uniform_bits(seed, count).astype(np.float64) * (2.0 ** -53)
    return (lo + (hi - lo) * u).reshape(shape).astype(dtype)


WORKLOAD_NAMES = ("black_scholes", "sor", "red_black_sor", "shallow_water", "nbody", "gmm_em")

# Parameter defaults, exactly as in the signatures of reference.py.
DEFAULTS = {
    "black_scholes": {"n": 1_000_000, "iterations": 1},
    "sor": {"n": 256, "max_iterations": 100, "epsilon": 0.0},
    "red_black_sor": {"n": 256, "iterations": 50, "omega": 1.5},
    "shallow_water": {"n": 128, "steps": 50, "dt": 0.02, "dx": 1.0, "dy": 1.0, "g": 9.8},
    "nbody": {"n": 1024, "steps": 10, "dt": 0.005, "G": 0.01, "eps": 0.1},
    "gmm_em": {"n": 100_000, "d": 8, "k": 16, "iterations": 10},
}

# The sizes of the race. small = the small cases of expected.json; medium = the
# project's standard size; large = about twice medium in work (see README.md).
SIZES = {
    "small": {
        "black_scholes": {"n": 1000, "iterations": 1},
        "sor": {"n": 30, "max_iterations": 1000, "epsilon": 0.001},
        "red_black_sor": {"n": 31, "iterations": 10},
        "shallow_water": {"n": 20, "steps": 10},
        "nbody": {"n": 100, "steps": 3},
        "gmm_em": {"n": 1000, "d": 3, "k": 4, "iterations": 3},
    },
    "medium": {
        "black_scholes": {"n": 10_000_000, "iterations": 4},
        "sor": {"n": 2048, "max_iterations": 100},
        "red_black_sor": {"n": 2048, "iterations": 100},
        "shallow_water": {"n": 2048, "steps": 50},
        "nbody": {"n": 8192, "steps": 4},
        "gmm_em": {"n": 1_000_000, "d": 8, "k": 16, "iterations": 5},
    },
    "large": {
        "black_scholes": {"n": 20_000_000, "iterations": 4},   # 2x options
        "sor": {"n": 2896, "max_iterations": 100},             # 2x cells (2898^2 ~ 2 * 2050^2)
        "red_black_sor": {"n": 2896, "iterations": 100},       # 2x cells
        "shallow_water": {"n": 2896, "steps": 50},             # 2x cells
        "nbody": {"n": 8192, "steps": 8},                      # 2x steps (keeps NumPy's N x N temporaries at 512 MB)
        "gmm_em": {"n": 2_000_000, "d": 8, "k": 16, "iterations": 5},  # 2x points
    },
}

DTYPES = {"f64": np.float64, "f32": np.float32}


def full_params(workload, params):
    """The reference's defaults overlaid with `params` (unknown keys are an error)."""
    out = dict(DEFAULTS[workload])
    for k, v in params.items():
        if k not in out:
            raise KeyError(f"{workload} has no parameter {k!r}")
        out[k] = v
    return out


def check_defaults_against(reference_module):
    """DEFAULTS must equal the defaults of the reference's signatures (used by the tests)."""
    for name in WORKLOAD_NAMES:
        sig = inspect.signature(getattr(reference_module, name))
        want = {k: p.default for k, p in sig.parameters.items() if k != "dtype"}
        if want != DEFAULTS[name]:
            raise AssertionError(f"{name}: defaults {DEFAULTS[name]} != reference {want}")


def make_inputs(workload, params, dtype):
    """The initial state of `workload` as NumPy arrays of `dtype`, built exactly as the
    reference builds it. Peers copy/convert these outside the timer."""
    p = full_params(workload, params)
    dtype = np.dtype(dtype).type
    n = p["n"]
    if workload == "black_scholes":
        return {"S": uniform(1, n, 5.0, 30.0, dtype), "X": uniform(2, n, 1.0, 100.0, dtype),
                "T": uniform(3, n, 0.25, 10.0, dtype)}
    if workload in ("sor", "red_black_sor"):
        A = np.zeros((n + 2, n + 2), dtype)
        A[0, :] = 1.0
        return {"A": A}
    if workload == "shallow_water":
        i = np.arange(n + 2, dtype=np.float64)[:, None]
        j = np.arange(n + 2, dtype=np.float64)[None, :]
        sigma = max(n / 16.0, 1.0)
        H = (1.0 + np.exp(-((i - n / 4.0) ** 2 + (j - n / 4.0) ** 2) / sigma ** 2)).astype(dtype)
        return {"H": H, "U": np.zeros((n + 2, n + 2), dtype), "V": np.zeros((n + 2, n + 2), dtype)}
    if workload == "nbody":
        x, y, z = (uniform(s, n, -1.0, 1.0, dtype) for s in (10, 11, 12))
        return {"x": x, "y": y, "z": z, "m": uniform(13, n, 0.5, 1.5, dtype)}
    if workload == "gmm_em":
        d, k = p["d"], p["k"]
        centers = uniform(20, (k, d), -10.0, 10.0)
        label = np.arange(n) % k
        X = (centers[label] + uniform(21, (n, d), -1.5, 1.5)).astype(dtype)
        mu = uniform(22, (k, d), -10.0, 10.0).astype(dtype)
        return {"X": X, "mu": mu, "var": np.ones((k, d), dtype), "w": np.full(k, 1.0 / k, dtype)}
    raise KeyError(workload)


def copy_inputs(inputs):
    return {k: v.copy() for k, v in inputs.items()}


def scalars(dtype, **values):
    """Python floats rounded to `dtype` as NumPy scalars: how the reference's Python-float
    constants act on arrays of `dtype` (NumPy 2 casts them to the array's type)."""
    t = np.dtype(dtype).type
    return {k: t(v) for k, v in values.items()}


def load_expected():
    """The cases of the copy of expected.json next to this file."""
    with open(os.path.join(HERE, "expected.json")) as f:
        return json.load(f)["cases"]
