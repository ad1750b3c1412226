"""Monte Carlo price of an arithmetic-average Asian call (Examples/AsianOption.swift)."""
import math

import numpy as np

from common import uniform


def run(paths=100_000, steps=50, s0=100.0, strike=100.0, rate=0.05, sigma=0.2, maturity=1.0):
    dt = maturity / steps
    drift = (rate - 0.5 * sigma * sigma) * dt
    vol = sigma * math.sqrt(dt)
    # One pair of uniform streams per step, Box-Muller, then all log-returns at once.
    u1 = np.stack([uniform(1000 + 2 * s, paths) for s in range(steps)])
    u2 = np.stack([uniform(1001 + 2 * s, paths) for s in range(steps)])
    z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    prices = s0 * np.exp(np.cumsum(drift + vol * z, axis=0))          # steps x paths
    payoff = np.maximum(prices.mean(axis=0) - strike, 0.0)
    discount = math.exp(-rate * maturity)
    return {"price": discount * float(payoff.mean()),
            "std_error": discount * float(payoff.std(ddof=1)) / math.sqrt(paths),
            "mean_final": float(prices[-1].mean())}
