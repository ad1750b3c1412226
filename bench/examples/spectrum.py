"""The power spectrum of a noisy two-tone signal by a DFT matrix product (Examples/Spectrum.swift)."""
import numpy as np

from common import uniform


def run(n=2048, rate=512.0):
    two_pi = 2.0 * np.pi
    t = np.arange(n, dtype=np.float64) / rate
    signal = np.sin(two_pi * 50.0 * t) + 0.5 * np.sin(two_pi * 120.0 * t + 0.3) + 0.3 * uniform(60, n, -1.0, 1.0)
    j = np.arange(n, dtype=np.float64)
    window = 0.5 - 0.5 * np.cos(two_pi * j / (n - 1))          # Hann
    bins = n // 2 + 1
    k = np.arange(bins, dtype=np.float64)
    phase = (-two_pi / n) * np.outer(k, j)
    dft = np.exp(1j * phase)                                  # e^{-2 pi i k j / n}
    spectrum = dft @ (signal * window)
    power = np.abs(spectrum) ** 2 / n
    peak = int(np.argmax(power))
    second = int(np.argmax(np.where(np.abs(k - peak) > 3, power, 0.0)))
    width = rate / n
    return {"peak_hz": peak * width, "second_peak_hz": second * width,
            "peak_power": float(power[peak]), "power_sum": float(power.sum())}
