"""A pulse carried around a periodic line by upwind differences (Examples/Advection.swift)."""
import numpy as np


def run(n=2000, steps=500, courant=0.4, check_every=50):
    x = np.arange(n) / n
    u = np.exp(-200.0 * (x - 0.3) ** 2)
    peaks = 0.0
    for step in range(steps):
        u = u - courant * (u - np.roll(u, 1))
        if step % check_every == 0:
            peaks += float(u.max())
    return {"sum": float(u.sum()), "max": float(u.max()), "argmax": int(np.argmax(u)), "peaks": peaks}
