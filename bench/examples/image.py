"""An 8-bit image smoothed, contrast-stretched, thresholded and counted (Examples/ImageFilter.swift)."""
import numpy as np

from common import uniform


def run(width=2048, height=1536, noise=40.0):
    x = np.arange(width, dtype=np.float64).reshape(1, width)
    y = np.arange(height, dtype=np.float64).reshape(height, 1)
    base = 60 + 100 * (x / width) + 40 * (y / height)
    noisy = base + uniform(70, (height, width), -noise, noise)
    image = np.clip(noisy, 0, 255).astype(np.uint8)

    wide = image.astype(np.int32)
    h, w = height - 2, width - 2
    total = np.zeros((h, w), dtype=np.int32)
    for di in range(3):
        for dj in range(3):
            total += wide[di:di + h, dj:dj + w]
    smooth = (total // 9).astype(np.uint8)
    darkest, brightest = int(smooth.min()), int(smooth.max())
    span = max(brightest - darkest, 1)
    stretched = ((smooth.astype(np.int32) - darkest) * 255 // span).astype(np.uint8)

    mean = stretched.mean()
    above = int((stretched > mean).sum())
    counts = np.bincount(stretched.ravel(), minlength=256)
    fullest = int(counts.argmax())
    checksum = int((stretched.astype(np.int64) * np.arange(w)).sum())
    return {"mean": mean, "above_mean": above, "darkest": darkest, "brightest": brightest,
            "fullest_bin": fullest, "fullest_count": int(counts[fullest]), "checksum": checksum}
