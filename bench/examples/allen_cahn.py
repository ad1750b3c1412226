"""Phase separation by the Allen-Cahn equation, semi-implicit Fourier spectral steps (Examples/AllenCahn.swift)."""
import numpy as np

from common import uniform


def run(n=128, steps=500, dt=0.05, epsilon=0.02):
    # u_t = eps^2 lap(u) + u - u^3 on the periodic unit square: each step solves the linear part
    # implicitly in Fourier space and the reaction explicitly: (1 + dt eps^2 k^2) u_hat' = u_hat + dt fft(u - u^3).
    u = uniform(70, n * n, -0.1, 0.1).reshape(n, n)
    k = 2.0 * np.pi * np.fft.fftfreq(n, d=1.0 / n)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    coefficient = dt * epsilon * epsilon
    denominator = 1.0 + coefficient * k2
    u_hat = np.fft.fft2(u)
    for _ in range(steps):
        reaction = np.fft.fft2(u - u * u * u)
        u_hat = (u_hat + dt * reaction) / denominator
        u = np.fft.ifft2(u_hat).real
    return {"mean": float(u.mean()), "abs_mean": float(np.abs(u).mean()), "positive_fraction": float((u > 0).mean()),
            "energy": float(np.mean(0.25 * (u * u - 1) * (u * u - 1)))}
