"""The largest eigenvalue of a symmetric matrix by power iteration (Examples/PowerIteration.swift)."""
import numpy as np


def run(n=300, iterations=100):
    i = np.arange(n).reshape(n, 1)
    j = np.arange(n).reshape(1, n)
    a = ((i * j) % 7 + 1.0) / n + np.eye(n) * 2.0
    a = (a + a.T) / 2
    v = np.ones(n) / np.sqrt(n)
    lam = 0.0
    for _ in range(iterations):
        w = a @ v
        lam = float(v @ w)
        v = w / np.linalg.norm(w)
    return {"lambda": lam, "v0": float(v[0]), "v_sum": float(v.sum())}
