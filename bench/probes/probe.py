import numpy as np, sys, time, json
sys.path.insert(0, __import__('os').path.join(__import__('os').path.dirname(__import__('os').path.abspath(__file__)), '..', 'examples'))
from common import uniform as U
def uniform(shape, seed, lo, hi): return U(seed, shape, lo, hi)
def normal(shape, seed, mean=0., std=1.):
    u1 = uniform(shape, seed, 0, 1); u2 = uniform(shape, seed ^ 0x9E3779B9, 0, 1)
    return np.sqrt(np.log(1 - u1) * -2) * np.cos(u2 * (2 * np.pi)) * std + mean

def nbody(n=64, steps=100):
    pos = uniform([n, 3], 3, -1, 1); vel = np.zeros((n, 3)); mass = uniform([n], 4, 0.5, 1.5) / n
    dt, soft = 0.01, 0.1
    def accel(p):
        d = p[None, :, :] - p[:, None, :]
        r2 = (d * d).sum(axis=2) + soft * soft
        inv = mass[None, :] / (r2 * np.sqrt(r2))
        return (d * inv[:, :, None]).sum(axis=1)
    a = accel(pos)
    for _ in range(steps):
        vel = vel + 0.5 * dt * a; pos = pos + dt * vel; a = accel(pos); vel = vel + 0.5 * dt * a
    ke = 0.5 * (mass * (vel * vel).sum(axis=1)).sum()
    return {"ke": ke, "x0": pos[0, 0], "com": (mass[:, None] * pos).sum(axis=0)[1]}

def burgers(n=256, steps=2000):
    x = np.linspace(0, 2 * np.pi, n); u = np.sin(x) + 1.5
    dx = 2 * np.pi / n; nu = 0.05; dt = 0.2 * dx * dx / nu
    for _ in range(steps):
        up = np.roll(u, -1); um = np.roll(u, 1)
        u = u - dt * u * (u - um) / dx + nu * dt * (up - 2 * u + um) / (dx * dx)
    return {"sum": u.sum(), "max": u.max(), "u5": u[5]}

def jacobi(n=32, tol=1e-5):
    u = np.zeros((n, n)); u[0, :] = 1.0; it = 0
    while True:
        new = 0.25 * (u[0:n-2, 1:n-1] + u[2:n, 1:n-1] + u[1:n-1, 0:n-2] + u[1:n-1, 2:n])
        diff = np.abs(new - u[1:n-1, 1:n-1]).max()
        u[1:n-1, 1:n-1] = new; it += 1
        if diff < tol or it >= 5000: break
    return {"iterations": it, "mean": u.mean(), "mid": u[n // 2, n // 2]}

def softmax(n=2000, d=10, k=5, epochs=100):
    X = normal([n, d], 7); trueW = normal([d, k], 8)
    y = (X @ trueW).argmax(axis=1)
    Y = (np.arange(k)[None, :] == y[:, None]).astype(np.float64)
    W = np.zeros((d, k)); loss = 0.
    for _ in range(epochs):
        z = X @ W; zs = z - z.max(axis=1, keepdims=True); e = np.exp(zs)
        prob = e / e.sum(axis=1, keepdims=True)
        loss = -(Y * np.log(prob + 1e-12)).sum(axis=1).mean()
        grad = X.T @ (prob - Y) / n
        W = W - 0.5 * grad
    acc = ((X @ W).argmax(axis=1) == y).mean()
    return {"loss": loss, "accuracy": acc, "w00": W[0, 0]}

def walks(walkers=2000, steps=500):
    r = uniform([walkers, steps], 11, 0, 1)
    st = np.where(r < 0.5, -1.0, 1.0)
    paths = np.cumsum(st, axis=1)
    end = paths[:, steps - 1]
    counts, _ = np.histogram(end, bins=10, range=(-30, 30))
    return {"mean_end": end.mean(), "var_end": end.var(), "c5": counts[5], "mean_max": np.abs(paths).max(axis=1).mean()}

def edges(h=300, w=400):
    yy = np.arange(0, h, dtype=float)[:, None]; xx = np.arange(0, w, dtype=float)[None, :]
    img = (np.sin(xx * 0.1) * np.cos(yy * 0.07) + 1) * 100
    img = img + uniform([h, w], 5, 0, 10)
    p = np.pad(img, 1, mode='reflect')
    blur = np.zeros((h, w))
    for dy in range(3):
        for dx in range(3): blur = blur + p[dy:dy+h, dx:dx+w] / 9
    q = np.pad(blur, 1, mode='edge')
    gx = (q[0:h, 2:w+2] + 2*q[1:h+1, 2:w+2] + q[2:h+2, 2:w+2]) - (q[0:h, 0:w] + 2*q[1:h+1, 0:w] + q[2:h+2, 0:w])
    gy = (q[2:h+2, 0:w] + 2*q[2:h+2, 1:w+1] + q[2:h+2, 2:w+2]) - (q[0:h, 0:w] + 2*q[0:h, 1:w+1] + q[0:h, 2:w+2])
    mag = np.sqrt(gx*gx + gy*gy)
    return {"blur_mean": blur.mean(), "mag_max": mag.max(), "strong": (mag > 20).sum(), "median": np.median(mag)}

def solve(n=500, reps=5):
    a = uniform([n, n], 1, -1, 1) + np.eye(n) * n
    b = uniform([n], 2, -1, 1)
    best = bd = 1e9
    for _ in range(reps):
        t = time.perf_counter(); x = np.linalg.solve(a, b); best = min(best, time.perf_counter() - t)
        t = time.perf_counter(); np.linalg.det(a); bd = min(bd, time.perf_counter() - t)
    return {"solve_ms": best * 1e3, "det_ms": bd * 1e3, "x0": x[0]}

def bc(n=41, iters=5000, mode=3):
    # mode 1: the stencil alone; 2: the four border writes alone; 3: both (cavity flow's Poisson loop)
    p = uniform([n, n], 1, 0, 1)
    for _ in range(iters):
        if mode != 2:
            pn = p.copy()
            p[1:-1, 1:-1] = (pn[1:-1, 2:] + pn[1:-1, :-2] + pn[2:, 1:-1] + pn[:-2, 1:-1]) * 0.25
        if mode != 1:
            p[:, -1] = p[:, -2]; p[0, :] = p[1, :]; p[:, 0] = p[:, 1]; p[-1, :] = 0
    return {"sum": p.sum()}

def cmandel(width=600, height=400, iterations=50):
    # Mandelbrot escape counts with complex128 (z = z*z + c), as a NumPy user writes it.
    c = np.linspace(-2.0, 0.5, width)[None, :] + 1j * np.linspace(-1.25, 1.25, height)[:, None]
    z = np.zeros((height, width), dtype=np.complex128)
    count = np.zeros((height, width), dtype=np.int32)
    for _ in range(iterations):
        inside = np.abs(z) <= 2.0
        z = np.where(inside, z * z + c, z)
        count += inside
    return {"total": count.sum(), "inside": (np.abs(z) <= 2.0).sum()}

def fft(n=1 << 20, rows=1, reps=5):
    x = uniform([rows, n], 3, -1, 1)
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter(); f = np.fft.fft(x); total = np.abs(f).sum(); best = min(best, time.perf_counter() - t)
    return {"fft_ms": best * 1e3, "abs_sum": total}

def thin(n=20000, d=10, k=5, reps=50, mode=1):
    if mode == 2: k = 1
    x = uniform([n, d], 1, -1, 1); w = uniform([d, k], 2, -1, 1); g = uniform([n, k], 3, -1, 1)
    if mode == 2: w = w[:, 0].copy(); g = g[:, 0].copy()
    ba = bb = 1e9
    for _ in range(reps):
        t = time.perf_counter(); a = x @ w; ba = min(ba, time.perf_counter() - t)
        t = time.perf_counter(); b = x.T @ g; bb = min(bb, time.perf_counter() - t)
    return {"xw_us": ba * 1e6, "xtg_us": bb * 1e6, "xw_sum": a.sum(), "xtg_sum": b.sum()}

def roll(n=1000, steps=20):
    u = uniform([n, n], 9, 0, 1)
    for _ in range(steps):
        u = 0.25 * (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1))
    return {"sum": u.sum(), "u0": u[0, 0]}

def pad(n=1000, steps=20):
    u = uniform([n, n], 9, 0, 1)
    for _ in range(steps):
        g = np.pad(u, 1, mode="wrap")
        u = 0.25 * (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:])
    return {"sum": u.sum(), "u0": u[0, 0]}

def scan(rows=1000, cols=1000, axis=1, reps=5):
    x = uniform([rows, cols], 5, -1, 1); bs = bo = 1e9
    for _ in range(reps):
        t = time.perf_counter(); c = np.cumsum(x, axis=axis - 1); bs = min(bs, time.perf_counter() - t)
        t = time.perf_counter(); s = np.sort(x, axis=axis - 1); bo = min(bo, time.perf_counter() - t)
    return {"cumsum_ms": bs * 1e3, "sort_ms": bo * 1e3, "last": c[-1, -1], "first": s[0, 0]}

def recur(n=3000, cols=1):
    u = uniform([n], 11, 0, 1) if cols == 1 else uniform([n, cols], 11, 0, 1)
    for i in range(1, n):
        u[i] = u[i - 1] * 0.5 + u[i]
    return {"sum": u.sum(), "last": u.ravel()[-1]}

def linalg(n=300, reps=3):
    x = uniform([n, n], 13, -1, 1); spd = x @ x.T + np.eye(n) * n
    def best(f):
        t = 1e9
        for _ in range(reps):
            s = time.perf_counter(); v = f(); t = min(t, time.perf_counter() - s)
        return t * 1e3, v
    c = best(lambda: np.linalg.cholesky(spd)[n - 1, n - 1]); q = best(lambda: np.linalg.qr(x)[1][n - 1, n - 1])
    e = best(lambda: np.linalg.eigvalsh(spd)[n - 1]); v = best(lambda: np.linalg.eigh(spd)[0][0]); s = best(lambda: np.linalg.svd(x)[1][0])
    return {"cholesky_ms": c[0], "qr_ms": q[0], "eigvalsh_ms": e[0], "eigh_ms": v[0], "svd_ms": s[0],
            "l_last": c[1], "r_last": q[1], "lambda_max": e[1], "sigma_max": s[1]}

# Twentieth session: five more ports (ZProbe+Ports.swift).
def pagerank(n=1000, damping=0.85, tol=1e-10):
    links = (uniform([n, n], 90, 0, 1) > 0.95).astype(np.float64)
    out_degree = links.sum(axis=0)
    with np.errstate(divide='ignore', invalid='ignore'):
        m = np.where(out_degree == 0, 1.0 / n, links / out_degree)
    r = np.full(n, 1.0 / n); iterations = 0; change = np.inf
    while change > tol and iterations < 1000:
        nxt = damping * (m @ r) + (1 - damping) / n
        change = np.abs(nxt - r).sum(); r = nxt; iterations += 1
    return {"iterations": iterations, "r_max": r.max(), "r_sum": r.sum(), "top": int(r.argmax())}

def linreg(n=100000, d=8):
    x = uniform([n, d], 91, -2, 2) * np.arange(1, d + 1, dtype=np.float64)
    w = np.linspace(-1, 1, d)
    y = x @ w + 0.5 + 0.1 * normal([n], 92)
    mu, sigma = x.mean(axis=0), x.std(axis=0)
    z = (x - mu) / sigma
    a = np.concatenate([np.ones((n, 1)), z], axis=1)
    coef = np.linalg.solve(a.T @ a, a.T @ y)
    residual = y - a @ coef
    r2 = 1 - (residual * residual).sum() / ((y - y.mean()) * (y - y.mean())).sum()
    via = np.linalg.lstsq(a, y, rcond=None)[0]
    return {"intercept": coef[0], "coef_last": coef[d], "r2": r2, "p90": np.percentile(np.abs(residual), 90),
            "lstsq_diff": np.abs(via - coef).max()}

def wave(n=2000, steps=2000):
    dx = 1.0 / n; c = 1.0; dt = 0.5 * dx / c
    x = np.arange(0, n, dtype=np.float64) * dx
    u = np.exp(-((x - 0.5) * (x - 0.5)) / 0.002); prev = u
    r2 = (c * dt / dx) * (c * dt / dx); energies = []
    for step in range(1, steps + 1):
        nxt = 2 * u - prev + r2 * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
        prev = u; u = nxt
        if step % 100 == 0:
            v = (u - prev) / dt; g = (np.roll(u, -1) - u) / dx
            energies.append((0.5 * (v * v + c * c * g * g)).sum() * dx)
    return {"energy_first": energies[0], "energy_last": energies[-1], "u_max": u.max(), "u_sum": u.sum()}

def ranks(n=200000):
    a = normal([n], 93); b = np.exp(a * 0.5) + 0.3 * normal([n], 94)
    ra = np.argsort(np.argsort(a, kind='stable'), kind='stable').astype(np.float64)
    rb = np.argsort(np.argsort(b, kind='stable'), kind='stable').astype(np.float64)
    ra = ra - ra.mean(); rb = rb - rb.mean()
    spearman = (ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum())
    below = np.searchsorted(np.sort(a), [-1.0, 0.0, 1.0])
    counts, _ = np.histogram(a, bins=20, range=(-4, 4)); cdf = np.cumsum(counts)
    return {"spearman": spearman, "below_0": below[1], "below_1": below[2], "median": np.median(a), "cdf_mid": cdf[9],
            "q95": np.percentile(b, 95)}

def sir(groups=8, steps=2000):
    contact = uniform([groups, groups], 95, 0.5, 1.5) / groups
    beta, gamma, dt = 0.3, 0.1, 0.1
    s = np.full(groups, 0.99); i = np.full(groups, 0.01); r = np.zeros(groups)
    def rates(s, i):
        force = beta * (contact @ i); infection = force * s; recovery = gamma * i
        return -infection, infection - recovery, recovery
    for _ in range(steps):
        ds1, di1, dr1 = rates(s, i)
        ds2, di2, dr2 = rates(s + 0.5 * dt * ds1, i + 0.5 * dt * di1)
        ds3, di3, dr3 = rates(s + 0.5 * dt * ds2, i + 0.5 * dt * di2)
        ds4, di4, dr4 = rates(s + dt * ds3, i + dt * di3)
        s = s + dt / 6 * (ds1 + 2 * ds2 + 2 * ds3 + ds4)
        i = i + dt / 6 * (di1 + 2 * di2 + 2 * di3 + di4)
        r = r + dt / 6 * (dr1 + 2 * dr2 + 2 * dr3 + dr4)
    return {"s_sum": s.sum(), "i_max": i.max(), "r_sum": r.sum()}

def otsu(h=512, w=512):
    y = np.arange(0, h, dtype=np.float64).reshape(h, 1); x = np.arange(0, w, dtype=np.float64).reshape(1, w)
    disc = (((x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2)) < h * h / 9).astype(np.float64)
    image = 0.3 + 0.4 * disc + 0.1 * normal([h, w], 96)
    k = [v / 16 for v in [1.0, 4.0, 6.0, 4.0, 1.0]]
    padded = np.pad(image, ((0, 0), (2, 2)), mode="edge")
    rows = k[0] * padded[:, 0:w]
    for t in range(1, 5): rows = rows + k[t] * padded[:, t:t + w]
    padded2 = np.pad(rows, ((2, 2), (0, 0)), mode="edge")
    blurred = k[0] * padded2[0:h, :]
    for t in range(1, 5): blurred = blurred + k[t] * padded2[t:t + h, :]
    counts, edges = np.histogram(blurred, bins=64, range=(0, 1))
    p = counts.astype(np.float64) / (h * w)
    centres = (edges[0:64] + edges[1:65]) / 2
    omega = np.cumsum(p); mu = np.cumsum(p * centres); muT = mu[63]
    between = (muT * omega - mu) * (muT * omega - mu) / (omega * (1 - omega) + 1e-12)
    best = int(between.argmax()); threshold = edges[best + 1]
    return {"threshold": threshold, "foreground": (blurred > threshold).astype(np.float64).mean(), "blur_sum": blurred.sum()}

def montecarlo(batches=200, n=20000):
    means = []
    for b in range(batches):
        z = normal([n], 1000 + b); f = np.exp(-np.abs(z)); inside = (np.abs(z) < 1).astype(np.float64)
        means.append(float((f * inside + (1 - inside) * f).mean()))
    m = np.array(means)
    return {"mean": m.mean(), "stderr": m.std(ddof=1) / np.sqrt(batches)}

def limiter(n=400, steps=1000):
    dx = 1.0 / n; a = 1.0; dt = 0.4 * dx / a
    x = (np.arange(0, n, dtype=np.float64) + 0.5) * dx
    u = np.where(np.abs(x - 0.3) < 0.1, 1.0, 0.0) + np.exp(-((x - 0.7) * (x - 0.7)) / 0.002)
    for _ in range(steps):
        up = np.pad(u, 2, mode="wrap")
        dl = up[1:n + 3] - up[0:n + 2]; dr = up[2:n + 4] - up[1:n + 3]
        slope = np.where(dl * dr > 0, np.sign(dl) * np.minimum(np.abs(dl), np.abs(dr)), 0.0)
        face = up[1:n + 3] + 0.5 * (1 - a * dt / dx) * slope
        flux = a * face
        u = u - dt / dx * (flux[1:n + 1] - flux[0:n])
    return {"u_sum": u.sum() * dx, "u_max": u.max(), "u_min": u.min()}

def pic(particles=100000, cells=256, steps=100):
    x = uniform([particles], 97, 0, 1); v = 0.01 * normal([particles], 98); dt = 0.05
    for _ in range(steps):
        cell = np.clip((x * cells).astype(np.int64), 0, cells - 1)
        rho = np.bincount(cell, weights=np.ones(particles), minlength=cells) / particles * cells - 1
        e = np.cumsum(rho) / cells; field = e - e.mean()
        v = v + dt * field[cell]
        x = np.mod(x + dt * v, 1.0)
    return {"v_rms": np.sqrt((v * v).mean()), "x_mean": x.mean()}

def logistic(rs=100000, steps=1000):
    r = np.linspace(2.8, 4.0, rs); x = np.full(rs, 0.5)
    for _ in range(steps - 64): x = r * x * (1 - x)
    lo = x; hi = x
    for _ in range(64):
        x = r * x * (1 - x); lo = np.minimum(lo, x); hi = np.maximum(hi, x)
    return {"spread_sum": (hi - lo).sum(), "x_sum": x.sum()}

def maskdiffusion(n=128, steps=500):
    y = np.arange(0, n, dtype=np.float64).reshape(n, 1); x = np.arange(0, n, dtype=np.float64).reshape(1, n)
    mask = ((x - n / 3) * (x - n / 3) + (y - n / 2) * (y - n / 2)) < n * n / 64
    u = np.zeros((n, n)); means = []
    for step in range(1, steps + 1):
        u[mask] = 1.0
        inner = 0.25 * (u[0:n - 2, 1:n - 1] + u[2:n, 1:n - 1] + u[1:n - 1, 0:n - 2] + u[1:n - 1, 2:n])
        u[1:n - 1, 1:n - 1] = inner
        if step % 50 == 0: means.append(u.mean())
    return {"mean_last": means[-1], "mean_first": means[0], "u_sum": u.sum()}

name = sys.argv[1]; args = {k: float(v) if '.' in v or 'e' in v else int(v) for k, v in (a.split('=') for a in sys.argv[2:])}
f = globals()[name[2:]]
best = 1e9
for _ in range(3):
    t = time.perf_counter(); out = f(**args); best = min(best, time.perf_counter() - t)
print(json.dumps({k: float(v) for k, v in out.items()} | {"seconds": best}))
