"""The NumPy versions of ZProbe+HeldOut3.swift (`python3 bench/probes/heldout3.py gray_scott`;
`h3_gray_scott` in Swift), written by a held-out tester. Timed warm: the second of two calls."""
import sys, time, json, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples"))
from common import uniform


def gray_scott(n=128, steps=200, Du=0.16, Dv=0.08, F=0.04, k=0.06):
    """Gray-Scott reaction-diffusion on a periodic square, five-point Laplacian by np.roll."""
    U = np.ones((n, n))
    V = np.zeros((n, n))
    c, r = n // 2, n // 8
    U[c - r:c + r, c - r:c + r] = 0.5
    V[c - r:c + r, c - r:c + r] = 0.25
    U += 0.05 * uniform(21, (n, n))
    V += 0.05 * uniform(22, (n, n))

    def lap(Z):
        return np.roll(Z, 1, axis=0) + np.roll(Z, -1, axis=0) + np.roll(Z, 1, axis=1) + np.roll(Z, -1, axis=1) - 4 * Z

    for _ in range(steps):
        uvv = U * V * V
        U, V = U + Du * lap(U) - uvv + F * (1 - U), V + Dv * lap(V) + uvv - (F + k) * V
    return {"u_mean": float(U.mean()), "v_mean": float(V.mean()), "v_max": float(V.max()),
            "v_std": float(V.std()), "pattern": float((V > 0.1).sum())}


def cg_poisson(n=128, tol=1e-8, maxiter=2000):
    """Conjugate gradients for -lap(u) = f on the unit square (Dirichlet), matrix-free stencil."""
    h = 1.0 / (n + 1)
    x = np.linspace(h, 1 - h, n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    b = h * h * (np.sin(np.pi * X) * np.sin(2 * np.pi * Y) + 0.5 * uniform(31, (n, n)))

    def A(p):
        q = 4 * p
        q[1:, :] -= p[:-1, :]
        q[:-1, :] -= p[1:, :]
        q[:, 1:] -= p[:, :-1]
        q[:, :-1] -= p[:, 1:]
        return q

    u = np.zeros((n, n))
    r = b.copy()
    p = r.copy()
    rs = float((r * r).sum())
    bnorm = np.sqrt(rs)
    it = 0
    while it < maxiter:
        Ap = A(p)
        alpha = rs / float((p * Ap).sum())
        u += alpha * p
        r -= alpha * Ap
        rs_new = float((r * r).sum())
        it += 1
        if np.sqrt(rs_new) < tol * bnorm:
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    true_res = float(np.linalg.norm(b - A(u)) / bnorm)
    return {"iterations": float(it), "residual": float(np.sqrt(rs_new) / bnorm), "u_sum": float(u.sum()),
            "u_max": float(u.max()), "true_residual": true_res}


def ising(n=128, sweeps=100, beta=0.44):
    """2-D Ising model, Metropolis with checkerboard half-sweeps, periodic neighbours by roll."""
    spins = np.where(uniform(41, (n, n)) < 0.5, -1, 1).astype(np.int32)
    i, j = np.indices((n, n))
    black = (i + j) % 2 == 0
    mags = []
    for s in range(sweeps):
        for half, color in enumerate((black, ~black)):
            nb = np.roll(spins, 1, axis=0) + np.roll(spins, -1, axis=0) + np.roll(spins, 1, axis=1) + np.roll(spins, -1, axis=1)
            dE = 2 * spins * nb
            u = uniform(1000 + 2 * s + half, (n, n))
            accept = (dE <= 0) | (u < np.exp(-beta * dE))
            spins = np.where(color & accept, -spins, spins)
        if s % 10 == 9:
            mags.append(abs(spins.mean()))
    bonds = spins * (np.roll(spins, 1, axis=0) + np.roll(spins, 1, axis=1))
    return {"m": float(abs(spins.mean())), "mean_mag": float(np.mean(mags)),
            "energy": float(-bonds.sum()) / (n * n), "up": float((spins == 1).sum())}


def bootstrap(n=2000, B=500):
    """Bootstrap of a mean, a median and a correlation: resampling by integer gathers."""
    u1 = uniform(51, n)
    u2 = uniform(52, n)
    rad = np.sqrt(-2 * np.log(1 - u1))
    x = rad * np.cos(2 * np.pi * u2)
    y = 0.6 * x + 0.8 * rad * np.sin(2 * np.pi * u2) + 0.1 * x ** 2
    corr0 = np.corrcoef(x, y)[0, 1]
    idx = (uniform(53, (B, n)) * n).astype(np.int64)
    xs = x[idx]
    ys = y[idx]
    means = xs.mean(axis=1)
    xm = xs - means[:, None]
    ym = ys - ys.mean(axis=1, keepdims=True)
    corr = (xm * ym).sum(axis=1) / np.sqrt((xm ** 2).sum(axis=1) * (ym ** 2).sum(axis=1))
    med = np.median(xs, axis=1)
    lo, hi = np.percentile(corr, [2.5, 97.5])
    srt = np.sort(corr)
    running = np.cumsum(means) / np.arange(1, B + 1)
    return {"mean_se": float(means.std(ddof=1)), "median_se": float(med.std(ddof=1)),
            "corr0": float(corr0), "corr_mean": float(corr.mean()), "corr_lo": float(lo), "corr_hi": float(hi),
            "corr_q10": float(srt[B // 10]), "bias": float(corr.mean() - corr0),
            "running_dev": float(np.abs(running[B // 2:] - running[-1]).max())}


def pca_knn(n=2000, m=500, d=16, classes=3, comps=2, kn=5):
    """PCA by eigh of the covariance, then 1-NN and k-NN classification in the projected space."""
    centers = uniform(61, (classes, d), -2.0, 2.0)
    ytrain = (uniform(62, n) * classes).astype(np.int64)
    Xtrain = centers[ytrain] + uniform(63, (n, d), -1.5, 1.5)
    ytest = (uniform(64, m) * classes).astype(np.int64)
    Xtest = centers[ytest] + uniform(65, (m, d), -1.5, 1.5)
    mu = Xtrain.mean(axis=0)
    Xc = Xtrain - mu
    C = Xc.T @ Xc / (n - 1)
    w, V = np.linalg.eigh(C)
    order = np.argsort(w)[::-1]
    w = w[order]
    V = V[:, order]
    W = V[:, :comps]
    Ztr = Xc @ W
    Zte = (Xtest - mu) @ W
    d2 = (Zte ** 2).sum(axis=1)[:, None] - 2 * Zte @ Ztr.T + (Ztr ** 2).sum(axis=1)[None, :]
    nn = d2.argmin(axis=1)
    acc1 = (ytrain[nn] == ytest).mean()
    knn = np.argsort(d2, axis=1)[:, :kn]
    votes = np.stack([(ytrain[knn] == c).sum(axis=1) for c in range(classes)], axis=1)
    acc5 = (votes.argmax(axis=1) == ytest).mean()
    return {"explained": float(w[:comps].sum() / w.sum()), "lambda1": float(w[0]), "lambda_min": float(w[-1]),
            "acc1": float(acc1), "acc5": float(acc5),
            "mean_nn_dist": float(np.sqrt(np.maximum(d2.min(axis=1), 0)).mean())}


progs = {"gray_scott": gray_scott, "cg_poisson": cg_poisson, "ising": ising, "bootstrap": bootstrap, "pca_knn": pca_knn}
name = sys.argv[1]
kw = {k: (float(v) if "." in v or "e" in v else int(v)) for k, v in (a.split("=") for a in sys.argv[2:])}
f = progs[name.removeprefix("h3_")]; f(**kw)          # warm (NumPy's BLAS loaded, caches filled)
t = time.perf_counter(); r = f(**kw); t = time.perf_counter() - t
print(json.dumps({"name": name, "seconds": t, "outputs": r}))
