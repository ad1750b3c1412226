"""Logistic regression by full-batch gradient descent (Examples/LogisticRegression.swift)."""
import numpy as np

from common import uniform


def run(n=500_000, d=8, epochs=30, learning_rate=0.5):
    X = uniform(40, (n, d), -1.0, 1.0)
    true_w = (np.arange(d, dtype=np.float64) - (d - 1) / 2) * 0.5
    noise = uniform(41, n, -1.0, 1.0)
    y = ((X @ true_w + 0.25 + noise) > 0).astype(np.float64)

    w, b = np.zeros(d), 0.0
    losses = []
    for _ in range(epochs):
        z = X @ w + b
        losses.append(float(np.mean(np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - y * z)))
        err = 1.0 / (1.0 + np.exp(-z)) - y
        w = w - learning_rate * (X.T @ err) / n
        b = b - learning_rate * err.mean()
    z = X @ w + b
    accuracy = float(np.mean((z > 0) == (y > 0.5)))
    return {"loss_first": losses[0], "loss_last": losses[-1], "accuracy": accuracy,
            "weight_sum": float(w.sum()), "bias": float(b)}
