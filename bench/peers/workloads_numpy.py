"""NumPy peer: reference.py's workloads (workloads_array.py, the code the GPU peers run too) on
NumPy, with the input construction taken out (inputs come ready-made from common.make_inputs,
outside the timer). In float64 the outputs are the reference's bit for bit.
"""
from workloads_array import ERFC_NOTE, WORKLOAD_FUNCTIONS, Backend

NAME = "numpy"
INSTALL = "pip install numpy scipy"
AVAILABLE = True

_BACKEND = Backend()


def versions():
    return _BACKEND.versions()


def prepare(workload, inputs):
    """Fresh copies (the grid workloads update their arrays in place)."""
    return {k: v.copy() for k, v in inputs.items()}


def note(workload):
    return ERFC_NOTE if workload == "black_scholes" else ""


def _bound(f):
    return lambda inp, **params: f(_BACKEND, inp, **params)


WORKLOADS = {name: _bound(f) for name, f in WORKLOAD_FUNCTIONS.items()}
