"""Escape-time counts of the Mandelbrot set (Examples/Mandelbrot.swift)."""
import numpy as np


def run(width=600, height=400, max_iterations=100):
    dx, dy = 3.0 / width, 2.4 / height
    cr = (np.arange(width, dtype=np.float64) * dx - 2.2)[None, :]
    ci = (np.arange(height, dtype=np.float64) * dy - 1.2)[:, None]
    zr = np.zeros((height, width))
    zi = np.zeros((height, width))
    counts = np.zeros((height, width))
    for _ in range(max_iterations):
        bounded = zr * zr + zi * zi <= 4.0
        zr, zi = (np.where(bounded, zr * zr - zi * zi + cr, zr),
                  np.where(bounded, 2.0 * zr * zi + ci, zi))
        counts += bounded
    inside = float(np.count_nonzero(counts == max_iterations))
    return {"total": float(counts.sum()), "inside": inside, "area": inside * dx * dy}
