"""Softmax regression by full-batch gradient descent (Examples/SoftmaxRegression.swift)."""
import numpy as np

from common import uniform


def normal(seed, shape):
    """Tensor.normal: Box-Muller of two counter-based uniform streams."""
    u1 = uniform(seed, shape)
    u2 = uniform(seed ^ 0x9E3779B9, shape)
    return np.sqrt(np.log(1.0 - u1) * -2.0) * np.cos(u2 * (2.0 * np.pi)) * 1.0 + 0.0


def run(n=20_000, d=10, k=5, epochs=100, learning_rate=0.5):
    X = normal(7, (n, d))
    hidden = normal(8, (d, k))
    y = (X @ hidden).argmax(axis=1)
    Y = (np.arange(k)[None, :] == y[:, None]).astype(np.float64)
    W = np.zeros((d, k))
    losses = []
    for _ in range(epochs):
        z = X @ W
        zs = z - z.max(axis=1, keepdims=True)
        e = np.exp(zs)
        p = e / e.sum(axis=1, keepdims=True)
        losses.append(float(-(Y * np.log(p + 1e-12)).sum(axis=1).mean()))
        W = W - learning_rate * (X.T @ (p - Y) / n)
    accuracy = float(((X @ W).argmax(axis=1) == y).mean())
    return {"loss_first": losses[0], "loss_last": losses[-1], "accuracy": accuracy,
            "w00": float(W[0, 0]), "weight_abs_sum": float(np.abs(W).sum())}
