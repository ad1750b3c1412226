"""k-means clustering, Lloyd's algorithm (Examples/KMeans.swift)."""
import numpy as np

from common import uniform


def run(n=50_000, d=4, k=8, max_iterations=30):
    centres = uniform(30, (k, d), -10.0, 10.0)
    groups = (n + k - 1) // k
    noise = uniform(31, (groups, k, d), -3.0, 3.0)
    points = (centres[None] + noise).reshape(groups * k, d)[:n]
    centroids = uniform(32, (k, d), -10.0, 10.0)

    labels = np.full(n, -1)
    inertias = []
    counts = np.zeros(k)
    for _ in range(max_iterations):
        distances = np.square(points[:, None, :] - centroids[None]).sum(axis=2)
        nearest = distances.argmin(axis=1)
        inertias.append(float(distances.min(axis=1).sum()))
        changed = int(np.count_nonzero(nearest != labels))
        counts = np.bincount(nearest, minlength=k).astype(np.float64)
        sums = np.stack([np.bincount(nearest, weights=points[:, j], minlength=k) for j in range(d)], axis=1)
        centroids = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1.0)[:, None], centroids)
        labels = nearest
        if changed == 0:
            break
    return {"iterations": len(inertias), "inertia_first": inertias[0], "inertia_last": inertias[-1],
            "centroid_abs_sum": float(np.abs(centroids).sum()), "largest_cluster": float(counts.max())}
