"""Box blur and Sobel edges of a synthetic image (Examples/EdgeDetection.swift)."""
import numpy as np

from common import uniform


def run(height=800, width=1200, threshold=20.0):
    h, w = height, width
    rows = np.arange(0, h, dtype=np.float64)[:, None]
    columns = np.arange(0, w, dtype=np.float64)[None, :]
    image = (np.sin(columns * 0.1) * np.cos(rows * 0.07) + 1) * 100 + uniform(5, (h, w), 0.0, 10.0)
    p = np.pad(image, 1, mode="reflect")
    blur = np.zeros((h, w))
    for dy in range(3):
        for dx in range(3):
            blur = blur + p[dy:dy + h, dx:dx + w] / 9
    q = np.pad(blur, 1, mode="edge")
    right = q[0:h, 2:w + 2] + 2 * q[1:h + 1, 2:w + 2] + q[2:h + 2, 2:w + 2]
    left = q[0:h, 0:w] + 2 * q[1:h + 1, 0:w] + q[2:h + 2, 0:w]
    bottom = q[2:h + 2, 0:w] + 2 * q[2:h + 2, 1:w + 1] + q[2:h + 2, 2:w + 2]
    top = q[0:h, 0:w] + 2 * q[0:h, 1:w + 1] + q[0:h, 2:w + 2]
    gx, gy = right - left, bottom - top
    magnitude = np.sqrt(gx * gx + gy * gy)
    return {"blur_mean": float(blur.mean()), "magnitude_max": float(magnitude.max()),
            "strong": int((magnitude > threshold).sum()), "median": float(np.median(magnitude))}
