"""Steady heat on a plate with a heater disc: Jacobi iterations (Examples/HeatEquation.swift)."""
import numpy as np


def run(n=64, tolerance=1e-6, max_iterations=20_000, check_every=10):
    h = 1.0 / (n + 1)
    u = np.zeros((n + 2, n + 2))
    u[0, :] = 1.0
    x = np.arange(n + 2, dtype=np.float64) * h
    r2 = np.square(x[:, None] - 0.5) + np.square(x[None, :] - 0.5)
    heater = np.where(r2 < 0.04, 50.0, 0.0)
    h2f = (h * h) * heater[1:-1, 1:-1]

    iterations, residual = 0, np.inf
    while iterations < max_iterations and residual >= tolerance:
        nxt = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] + h2f)
        iterations += 1
        if iterations % check_every == 0 or iterations == max_iterations:
            residual = float(np.abs(nxt - u[1:-1, 1:-1]).max())
        u[1:-1, 1:-1] = nxt
    return {"iterations": iterations, "residual": residual,
            "total": float(u.sum()), "center": float(u[n // 2 + 1, n // 2 + 1])}
