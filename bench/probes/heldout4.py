"""The NumPy versions of ZProbe+HeldOut4.swift (`python3 bench/probes/heldout4.py rk4_orbits`;
`h4_rk4_orbits` in Swift), written by a held-out tester. Timed warm: the second of two calls."""
import sys, time, json, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples"))
from common import uniform


def rk4_orbits(n=10000, steps=200, dt=0.02):
    """Many independent Kepler orbits (GM = 1) integrated together by classical RK4, state [4, n]."""
    r0 = uniform(71, n, 0.5, 1.5)
    ecc = uniform(72, n, 0.0, 0.6)
    phi = uniform(73, n, 0.0, 2 * np.pi)
    v0 = np.sqrt((1 + ecc) / r0)
    s = np.stack([r0 * np.cos(phi), r0 * np.sin(phi), -v0 * np.sin(phi), v0 * np.cos(phi)])

    def f(s):
        x, y = s[0], s[1]
        r3 = (x * x + y * y) ** 1.5
        return np.stack([s[2], s[3], -x / r3, -y / r3])

    def energy(s):
        return 0.5 * (s[2] ** 2 + s[3] ** 2) - 1 / np.sqrt(s[0] ** 2 + s[1] ** 2)

    E0 = energy(s)
    L0 = s[0] * s[3] - s[1] * s[2]
    for _ in range(steps):
        k1 = f(s)
        k2 = f(s + 0.5 * dt * k1)
        k3 = f(s + 0.5 * dt * k2)
        k4 = f(s + dt * k3)
        s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    E = energy(s)
    L = s[0] * s[3] - s[1] * s[2]
    r = np.hypot(s[0], s[1])
    return {"energy_drift": float(np.abs((E - E0) / E0).max()), "angmom_drift": float(np.abs(L - L0).max()),
            "mean_r": float(r.mean()), "max_r": float(r.max()), "mean_E": float(E.mean()),
            "x_sum": float(s[0].sum()), "vy_sum": float(s[3].sum())}


def sod(n=400, t_end=0.2, cfl=0.4, gamma=1.4):
    """Sod's shock tube: finite volumes, MUSCL with the minmod limiter, Rusanov fluxes, Heun steps,
    dt from the CFL condition every step (a read each step)."""
    dx = 1.0 / n
    x = (np.arange(n) + 0.5) * dx
    rho = np.where(x < 0.5, 1.0, 0.125)
    p = np.where(x < 0.5, 1.0, 0.1)
    U = np.stack([rho, np.zeros(n), p / (gamma - 1)])

    def minmod(a, b):
        return np.where(a * b > 0, np.sign(a) * np.minimum(np.abs(a), np.abs(b)), 0.0)

    def prim(U):
        rho = U[0]
        u = U[1] / rho
        return rho, u, (gamma - 1) * (U[2] - 0.5 * rho * u * u)

    def cons_flux(W):
        rho, u, p = W[0], W[1], W[2]
        E = p / (gamma - 1) + 0.5 * rho * u * u
        return np.stack([rho, rho * u, E]), np.stack([rho * u, rho * u * u + p, u * (E + p)])

    def L(U):
        W = np.stack(prim(U))
        Wg = np.pad(W, ((0, 0), (2, 2)), mode="edge")
        d = Wg[:, 1:] - Wg[:, :-1]
        s = minmod(d[:, :-1], d[:, 1:])
        WL = Wg[:, 1:n + 2] + 0.5 * s[:, 0:n + 1]
        WR = Wg[:, 2:n + 3] - 0.5 * s[:, 1:n + 2]
        UL, FL = cons_flux(WL)
        UR, FR = cons_flux(WR)
        a = np.maximum(np.abs(WL[1]) + np.sqrt(gamma * WL[2] / WL[0]), np.abs(WR[1]) + np.sqrt(gamma * WR[2] / WR[0]))
        F = 0.5 * (FL + FR) - 0.5 * a * (UR - UL)
        return -(F[:, 1:] - F[:, :-1]) / dx

    t = 0.0
    steps = 0
    while t < t_end:
        rho, u, p = prim(U)
        dt = cfl * dx / float((np.abs(u) + np.sqrt(gamma * p / rho)).max())
        dt = min(dt, t_end - t)
        U1 = U + dt * L(U)
        U = 0.5 * (U + U1 + dt * L(U1))
        t += dt
        steps += 1
    rho, u, p = prim(U)
    grad = np.abs(np.diff(rho))
    return {"steps": float(steps), "mass": float(U[0].sum() * dx), "energy": float(U[2].sum() * dx),
            "u_max": float(u.max()), "p_mid": float(p[n // 2]), "rho_right": float(rho[int(0.8 * n)]),
            "shock_x": float(x[int(grad[n // 2 + n // 10:].argmax()) + n // 2 + n // 10]),
            "tv_rho": float(grad.sum())}


def canny(n=384, sigma=1.5, lo_q=80.0, hi_q=95.0):
    """A Canny-like edge detector on a synthetic image: separable Gaussian blur over reflected
    borders, Sobel, direction bins, non-maximum suppression, percentile thresholds, hysteresis by
    repeated 8-neighbour dilation until nothing changes (a read every round)."""
    i, j = np.indices((n, n)).astype(np.float64)
    img = (((i - n / 2) ** 2 + (j - n / 3) ** 2) < (n / 5) ** 2) * 1.0
    img = img + (np.abs(i - 0.5 * j - n / 4) < n / 20) * 0.6
    img = img + ((i > 0.7 * n) & (j > 0.6 * n)) * 0.8
    img = img + 0.15 * uniform(101, (n, n), -1, 1)
    r = int(3 * sigma)
    t = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-t * t / (2 * sigma * sigma))
    g = g / g.sum()
    P = np.pad(img, r, mode="reflect")
    tmp = sum(g[k] * P[k:k + n, :] for k in range(2 * r + 1))
    B = sum(g[k] * tmp[:, k:k + n] for k in range(2 * r + 1))
    Q = np.pad(B, 1, mode="edge")
    gx = (Q[0:n, 2:] + 2 * Q[1:n + 1, 2:] + Q[2:, 2:]) - (Q[0:n, :n] + 2 * Q[1:n + 1, :n] + Q[2:, :n])
    gy = (Q[2:, 0:n] + 2 * Q[2:, 1:n + 1] + Q[2:, 2:]) - (Q[:n, 0:n] + 2 * Q[:n, 1:n + 1] + Q[:n, 2:])
    mag = np.sqrt(gx * gx + gy * gy)
    ang = np.degrees(np.arctan2(gy, gx)) % 180.0
    d0 = (ang < 22.5) | (ang >= 157.5)
    d45 = (ang >= 22.5) & (ang < 67.5)
    d90 = (ang >= 67.5) & (ang < 112.5)
    M = np.pad(mag, 1, mode="constant")
    n1 = np.select([d0, d45, d90], [M[1:-1, :-2], M[:-2, :-2], M[:-2, 1:-1]], default=M[:-2, 2:])
    n2 = np.select([d0, d45, d90], [M[1:-1, 2:], M[2:, 2:], M[2:, 1:-1]], default=M[2:, :-2])
    nms = np.where((mag >= n1) & (mag >= n2), mag, 0.0)
    cand = nms[nms > 0]
    lo, hi = np.percentile(cand, [lo_q, hi_q])
    strong = nms >= hi
    weak = nms >= lo
    edges = strong
    count = int(edges.sum())
    rounds = 0
    while True:
        E = np.pad(edges, 1, mode="constant")
        dil = (E[1:-1, 1:-1] | E[:-2, 1:-1] | E[2:, 1:-1] | E[1:-1, :-2] | E[1:-1, 2:]
               | E[:-2, :-2] | E[:-2, 2:] | E[2:, :-2] | E[2:, 2:])
        new = dil & weak
        rounds += 1
        c = int(new.sum())
        if c == count:
            break
        edges, count = new, c
    return {"edges": float(count), "strong": float(strong.sum()), "weak": float(weak.sum()),
            "rounds": float(rounds), "lo": float(lo), "hi": float(hi), "mag_mean": float(mag.mean()),
            "edge_mag_mean": float(mag[edges].mean())}


def lennard_jones(m=7, steps=10, dt=0.002, density=0.8, rc=2.5):
    """Lennard-Jones fluid, m**3 particles in a periodic box: all pairs by broadcasting
    [n,1,3] - [1,n,3], minimum image by round, a cutoff mask, velocity Verlet."""
    n = m ** 3
    L = (n / density) ** (1 / 3)
    a = L / m
    gi, gj, gk = np.meshgrid(np.arange(m), np.arange(m), np.arange(m), indexing="ij")
    pos = np.stack([gi.ravel(), gj.ravel(), gk.ravel()], axis=1) * a + 0.1 * a * uniform(111, (n, 3), -1, 1)
    vel = uniform(112, (n, 3), -1, 1)
    vel = vel - vel.mean(axis=0)
    rc2 = rc * rc
    ecut = 4 * (rc2 ** -6 - rc2 ** -3)

    def forces(pos):
        d = pos[:, None, :] - pos[None, :, :]
        d = d - L * np.round(d / L)
        r2 = (d * d).sum(axis=2)
        mask = (r2 < rc2) & (r2 > 0)
        r2s = np.where(mask, r2, 1.0)
        inv6 = (1 / r2s) ** 3
        e = np.where(mask, 4 * (inv6 * inv6 - inv6) - ecut, 0.0)
        fmag = np.where(mask, 24 * (2 * inv6 * inv6 - inv6) / r2s, 0.0)
        F = (fmag[:, :, None] * d).sum(axis=1)
        return F, 0.5 * e.sum(), 0.5 * (fmag * r2).sum(), mask.sum() // 2

    F, pe, vir, pairs = forces(pos)
    for _ in range(steps):
        vel = vel + 0.5 * dt * F
        pos = (pos + dt * vel) % L
        F, pe, vir, pairs = forces(pos)
        vel = vel + 0.5 * dt * F
    ke = 0.5 * (vel * vel).sum()
    T = 2 * ke / (3 * n)
    return {"pe": float(pe), "ke": float(ke), "total": float(pe + ke), "pressure": float((n * T + vir / 3) / L ** 3),
            "pairs": float(pairs), "momentum": float(np.abs(vel.sum(axis=0)).max()),
            "f_mean": float(np.sqrt((F * F).sum(axis=1)).mean()), "x_mean": float(pos[:, 0].mean())}


def timeseries(n=200000, w=50, maxlag=20):
    """A synthetic series: rolling mean and std by cumulative sums, z-score anomalies, the
    autocorrelation of its increments by FFT, Spearman rank correlation, drawdown by a running max."""
    t = np.arange(n, dtype=np.float64)
    x = 0.02 * np.cumsum(uniform(81, n, -1, 1)) + np.sin(2 * np.pi * t / 365.0) + 0.5 * uniform(82, n, -1, 1)
    x = x + 5.0 * (uniform(83, n) > 0.999)
    c = np.cumsum(np.concatenate([[0.0], x]))
    c2 = np.cumsum(np.concatenate([[0.0], x * x]))
    rmean = (c[w:] - c[:-w]) / w
    rvar = (c2[w:] - c2[:-w]) / w - rmean * rmean
    rstd = np.sqrt(np.maximum(rvar, 1e-12))
    z = (x[w - 1:] - rmean) / rstd
    r = np.diff(x)
    rc = r - r.mean()
    nfft = 1 << (2 * len(rc) - 1).bit_length()
    spec = np.fft.rfft(rc, nfft)
    acf = np.fft.irfft(spec * np.conj(spec), nfft)[:maxlag + 1]
    acf = acf / acf[0]
    a = np.abs(r[w - 1:])
    b = rstd[1:]
    ra = np.argsort(np.argsort(a)).astype(np.float64)
    rb = np.argsort(np.argsort(b)).astype(np.float64)
    spearman = np.corrcoef(ra, rb)[0, 1]
    dd = (np.maximum.accumulate(x) - x).max()
    q1, q50, q99 = np.percentile(r, [1, 50, 99])
    return {"anomalies": float((np.abs(z) > 3).sum()), "z_max": float(np.abs(z).max()), "rstd_mean": float(rstd.mean()),
            "acf1": float(acf[1]), "acf2": float(acf[2]), "acf_sum": float(acf[1:].sum()), "spearman": float(spearman),
            "drawdown": float(dd), "q1": float(q1), "q50": float(q50), "q99": float(q99)}


def floyd(n=400, p=0.02):
    """All-pairs shortest paths of a random directed graph by Floyd-Warshall, each k one
    broadcast minimum of the matrix with a column plus a row."""
    w = uniform(91, (n, n), 1.0, 10.0)
    D = np.where(uniform(92, (n, n)) < p, w, np.inf)
    D[np.arange(n), np.arange(n)] = 0.0
    for k in range(n):
        D = np.minimum(D, D[:, k:k + 1] + D[k:k + 1, :])
    finite = np.isfinite(D)
    Df = np.where(finite, D, 0.0)
    ecc = np.where(finite, D, -1.0).max(axis=1)
    return {"reachable": float(finite.sum()), "total": float(Df.sum()), "diameter": float(D[finite].max()),
            "mean": float(D[finite].mean()), "radius": float(ecc.min()), "center": float(ecc.argmin()),
            "median": float(np.median(D[finite]))}


# Extra programs (beyond the six), written after the six agreed with NumPy.

def newton(n=300, iters=40):
    """Newton's method for z**3 = 1 from a grid of complex starting points: basins, step counts."""
    x = np.linspace(-2.0, 2.0, n)
    X, Y = np.meshgrid(x, x)
    z = X + 1j * Y
    count = np.zeros((n, n))
    for _ in range(iters):
        dz = (z ** 3 - 1) / (3 * z ** 2)
        z = z - dz
        count += np.abs(dz) > 1e-8
    roots = np.exp(2j * np.pi * np.arange(3) / 3)
    dist = np.abs(z[None, :, :] - roots[:, None, None])
    basin = dist.argmin(axis=0)
    return {"basin0": float((basin == 0).sum()), "basin1": float((basin == 1).sum()), "basin2": float((basin == 2).sum()),
            "mean_count": float(count.mean()), "max_err": float(dist.min(axis=0).max()), "re_sum": float(z.real.sum()),
            "im_abs_sum": float(np.abs(z.imag).sum())}


def mlp(n=2000, d=8, h=64, epochs=100, lr=0.1):
    """A one-hidden-layer tanh network fitted to a smooth target by full-batch gradient descent:
    forward and backward passes by matmul, the loss read every 10 epochs."""
    X = uniform(121, (n, d), -1, 1)
    y = (np.sin(3 * X[:, 0]) * X[:, 1] + 0.5 * X[:, 2] ** 2 + 0.1 * uniform(124, n, -1, 1))[:, None]
    W1 = uniform(122, (d, h), -1, 1) * np.sqrt(1 / d)
    b1 = np.zeros(h)
    W2 = uniform(123, (h, 1), -1, 1) * np.sqrt(1 / h)
    b2 = np.zeros(1)
    losses = []
    for e in range(epochs):
        A = np.tanh(X @ W1 + b1)
        out = A @ W2 + b2
        err = out - y
        if e % 10 == 0:
            losses.append(float((err ** 2).mean()))
        g = 2 * err / n
        gW2 = A.T @ g
        gb2 = g.sum(axis=0)
        gZ = (g @ W2.T) * (1 - A * A)
        gW1 = X.T @ gZ
        gb1 = gZ.sum(axis=0)
        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
    final = float(((np.tanh(X @ W1 + b1) @ W2 + b2 - y) ** 2).mean())
    return {"loss0": losses[0], "loss_mid": losses[len(losses) // 2], "loss": final,
            "w1_norm": float(np.linalg.norm(W1)), "w2_sum": float(W2.sum()), "b1_mean": float(b1.mean())}


def knapsack(items=400, cap=50000):
    """0/1 knapsack by dynamic programming, one whole-row update per item (a shifted maximum)."""
    w = (uniform(131, items) * 400 + 1).astype(np.int64)
    v = uniform(132, items, 1.0, 100.0)
    best = np.zeros(cap + 1)
    for i in range(items):
        wi = int(w[i])
        cand = best[:cap + 1 - wi] + v[i]
        best[wi:] = np.maximum(best[wi:], cand)
    return {"best": float(best[-1]), "mean": float(best.mean()), "half": float(best[cap // 2]),
            "distinct": float(len(np.unique(best)))}


def spectral_burgers(n=2048, steps=300, dt=5e-4, nu=0.05):
    """Viscous Burgers on a periodic line, pseudo-spectral: derivative by rfft/irfft, Euler step of
    the nonlinear term with an exact integrating factor for the viscosity (three transforms a step)."""
    x = 2 * np.pi * np.arange(n) / n
    u = np.sin(x) + 0.5 * np.cos(2 * x) + 0.1 * uniform(141, n, -1, 1)
    k = np.fft.rfftfreq(n, 1.0 / n)
    decay = np.exp(-nu * k * k * dt)
    energy0 = float((u * u).mean())
    for _ in range(steps):
        uh = np.fft.rfft(u)
        ux = np.fft.irfft(1j * k * uh, n)
        u = np.fft.irfft((uh + dt * np.fft.rfft(-u * ux)) * decay, n)
    return {"energy0": energy0, "energy": float((u * u).mean()), "u_max": float(u.max()), "u_min": float(u.min()),
            "grad_max": float(np.abs(np.diff(u)).max() * n / (2 * np.pi)), "mean": float(u.mean())}


def rejection(batches=40, m=50000):
    """Rejection sampling from p(x) ~ exp(-x^2/2) (1 + sin(3x)^2) on [-4, 4], batch by batch,
    with running mean and variance combined by Chan's formula and a histogram of all accepted."""
    count, mean, m2 = 0, 0.0, 0.0
    hist = np.zeros(20, dtype=np.int64)
    tried = 0
    for b in range(batches):
        x = uniform(2 * b + 500, m, -4.0, 4.0)
        u = uniform(2 * b + 501, m)
        f = np.exp(-x * x / 2) * (1 + np.sin(3 * x) ** 2) / 2
        acc = x[u < f]
        nb = acc.size
        mb = float(acc.mean())
        m2b = float(((acc - mb) ** 2).sum())
        delta = mb - mean
        tot = count + nb
        mean += delta * nb / tot
        m2 += m2b + delta * delta * count * nb / tot
        count = tot
        tried += m
        hist += np.histogram(acc, bins=20, range=(-4.0, 4.0))[0]
    return {"accepted": float(count), "rate": count / tried, "mean": mean, "var": m2 / (count - 1),
            "hist_peak": float(hist.argmax()), "hist_max": float(hist.max()), "hist_edge": float(hist[0] + hist[-1])}


progs = {"rk4_orbits": rk4_orbits, "sod": sod, "canny": canny, "lennard_jones": lennard_jones,
         "timeseries": timeseries, "floyd": floyd,
         "newton": newton, "mlp": mlp, "knapsack": knapsack, "spectral_burgers": spectral_burgers, "rejection": rejection}
name = sys.argv[1]
kw = {k: (float(v) if "." in v or "e" in v else int(v)) for k, v in (a.split("=") for a in sys.argv[2:])}
f = progs[name.removeprefix("h4_")]; f(**kw)          # warm (NumPy's BLAS loaded, caches filled)
t = time.perf_counter(); r = f(**kw); t = time.perf_counter() - t
print(json.dumps({"name": name, "seconds": t, "outputs": r}))
