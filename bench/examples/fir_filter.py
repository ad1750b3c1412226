"""A windowed-sinc low-pass FIR filter, then decimation (Examples/FIRFilter.swift)."""
import numpy as np

from common import uniform


def run(n=2_000_000, taps=101, cutoff=30.0, rate=1000.0):
    two_pi = 2.0 * np.pi
    t = np.arange(n, dtype=np.float64) / rate
    clean = np.sin(two_pi * 5.0 * t) + 0.5 * np.sin(two_pi * 12.0 * t)
    signal = clean + 0.3 * np.sin(two_pi * 120.0 * t) + 0.4 * uniform(50, n, -1.0, 1.0)

    fc = cutoff / rate
    h = np.sinc(2.0 * fc * (np.arange(taps) - (taps - 1) / 2)) * np.hamming(taps)
    h /= h.sum()
    filtered = np.convolve(signal, h, mode="valid")
    delay = (taps - 1) // 2
    reference = clean[delay:delay + filtered.size]
    return {"rms_error_before": float(np.sqrt(np.mean(np.square(signal[delay:delay + filtered.size] - reference)))),
            "rms_error_after": float(np.sqrt(np.mean(np.square(filtered - reference)))),
            "filtered_sum": float(filtered.sum()), "decimated_sum": float(filtered[::4].sum())}
