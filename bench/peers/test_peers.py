"""Tests of the peers at the small sizes (seconds, not minutes):

  python3 -m unittest discover -s bench/peers -p 'test_*.py'

Peers whose package is missing are skipped. Reads nothing outside bench/peers/.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import common  # noqa: E402
import reference  # noqa: E402
import run_peers  # noqa: E402

SMALL_CASES = [(w, common.full_params(w, common.SIZES["small"][w])) for w in common.WORKLOAD_NAMES]


def expected(workload, params):
    for case in common.load_expected():
        if case["workload"] == workload and common.full_params(workload, case["params"]) == params:
            return case["outputs"]
    raise KeyError((workload, params))


class CommonTest(unittest.TestCase):
    def test_uniform_is_the_reference_generator(self):
        for seed, shape, lo, hi in [(1, 1000, 5.0, 30.0), (21, (50, 3), -1.5, 1.5), (0, 7, 0.0, 1.0)]:
            for dtype in (np.float64, np.float32):
                a = common.uniform(seed, shape, lo, hi, dtype)
                b = reference.uniform(seed, shape, lo, hi, dtype)
                self.assertEqual(a.dtype, b.dtype)
                self.assertTrue(np.array_equal(a, b))

    def test_defaults_are_the_reference_defaults(self):
        common.check_defaults_against(reference)

    def test_small_sizes_are_the_small_expected_cases(self):
        for workload, params in SMALL_CASES:
            expected(workload, params)  # raises if absent

    def test_inputs_are_those_of_the_reference(self):
        p = common.full_params("gmm_em", {"n": 50, "d": 3, "k": 4})
        inp = common.make_inputs("gmm_em", p, np.float32)
        centers = reference.uniform(20, (4, 3), -10.0, 10.0)
        X = (centers[np.arange(50) % 4] + reference.uniform(21, (50, 3), -1.5, 1.5)).astype(np.float32)
        self.assertTrue(np.array_equal(inp["X"], X))


class PeerTest(unittest.TestCase):
    def check_peer(self, name):
        module, missing = run_peers.load_peer(name)
        if module is None:
            self.skipTest(f"{name} missing: {missing['install']}")
        for dtype_name, tol in run_peers.TOLERANCE.items():
            for workload, params in SMALL_CASES:
                with self.subTest(dtype=dtype_name, workload=workload):
                    inputs = common.make_inputs(workload, params, common.DTYPES[dtype_name])
                    before = common.copy_inputs(inputs)
                    out = module.WORKLOADS[workload](module.prepare(workload, inputs), **params)
                    for k, v in inputs.items():  # prepare() must protect the caller's inputs
                        self.assertTrue(np.array_equal(v, before[k]), f"{k} modified")
                    want = expected(workload, params)
                    self.assertEqual(set(out), set(want))
                    for k, w in want.items():
                        self.assertTrue(math.isclose(out[k], w, rel_tol=tol), f"{k}: {out[k]!r} vs {w!r}")

    def test_numpy(self):
        self.check_peer("numpy")

    def test_numexpr(self):
        self.check_peer("numexpr")

    def test_numba(self):
        self.check_peer("numba")

    def test_jax(self):
        self.check_peer("jax")

    def test_numpy_peer_is_the_reference_bit_for_bit(self):
        import workloads_numpy
        for workload, params in SMALL_CASES:
            out = workloads_numpy.WORKLOADS[workload](
                common.make_inputs(workload, params, np.float64), **params)
            self.assertEqual(out, reference.WORKLOADS[workload](**params))


class CliTest(unittest.TestCase):
    def test_json_report_and_missing_peers(self):
        with tempfile.TemporaryDirectory() as block:
            for name in ("numba", "jax"):  # make these two imports fail in the child
                with open(os.path.join(block, name + ".py"), "w") as f:
                    f.write("raise ImportError('blocked by the test')\n")
            env = dict(os.environ, PYTHONPATH=block)
            proc = subprocess.run(
                [sys.executable, os.path.join(HERE, "run_peers.py"), "--size", "small", "--dtype", "f32",
                 "--workloads", "sor,red_black_sor", "--repeats", "2", "--json"],
                capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        report = json.loads(proc.stdout)
        self.assertEqual(report["size"], "small")
        self.assertEqual(report["dtype"], "f32")
        self.assertIn("cpu", report["machine"])
        self.assertEqual({m["peer"] for m in report["missing"]}, {"numba", "jax"})
        for m in report["missing"]:
            self.assertFalse(m["available"])
            self.assertTrue(m["install"].startswith("pip install"))
        self.assertTrue(report["results"])
        for r in report["results"]:
            self.assertIn(r["peer"], ("numpy", "numexpr"))
            self.assertEqual(r["check"], "pass")
            self.assertGreater(r["seconds"], 0)
            self.assertEqual(set(r) >= {"peer", "workload", "params", "seconds", "compile_seconds",
                                        "outputs", "check", "note"}, True)


if __name__ == "__main__":
    unittest.main()
