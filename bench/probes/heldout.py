"""The NumPy versions of ZProbe+HeldOut.swift (`python3 bench/probes/heldout.py walk`; `h_walk`
in Swift). Timed warm: the second of two calls."""
import sys, time, json, numpy as np
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples"))
from common import uniform

def walk(paths=2000, steps=500):
    u = uniform(7, (paths, steps))
    st = np.where(u < 0.5, -1.0, 1.0)
    pos = np.cumsum(st, axis=1)
    hit = float((pos.max(axis=1) >= 20).mean())
    fin = pos[:, -1]
    return {"hit": hit, "mean": float(fin.mean()), "std": float(fin.std()), "maxabs": float(np.abs(pos).max())}

def wave(n=64, steps=500, c2=0.2):
    x = np.arange(n) / (n - 1)
    u = np.exp(-100 * ((x[:, None] - 0.5) ** 2 + (x[None, :] - 0.4) ** 2))
    up = u.copy()
    energies = []
    for s in range(steps):
        lap = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
        un = np.zeros_like(u)
        un[1:-1, 1:-1] = 2 * u[1:-1, 1:-1] - up[1:-1, 1:-1] + c2 * lap
        up, u = u, un
        if s % 100 == 0:
            energies.append(float((u * u).sum()))
    return {"sum": float(u.sum()), "abs": float(np.abs(u).sum()), "energy": float(sum(energies))}

def equalize(h=256, w=256):
    img = (uniform(11, (h, w)) ** 2 * 255).astype(np.int64)
    hist = np.bincount(img.ravel(), minlength=256)
    cdf = np.cumsum(hist)
    lut = ((cdf - cdf.min()) * 255 // (cdf[-1] - cdf.min())).astype(np.int64)
    out = lut[img]
    return {"mean": float(out.mean()), "std": float(out.std()), "min": int(out.min()), "max": int(out.max()), "h128": int(hist[128])}

def interp(n=1000000, reps=20, kind=0):
    """ns an element of one of four reductions (h_interp's kinds: 0 gather + min, 1 mul add sum,
    2 sub abs mul max, 3 exp + sin sum), as `tandem example h_interp kind=K` reports them."""
    idx = (uniform(3, (n,)) * 255).astype(np.int64); lut = np.arange(256, dtype=np.int64) * 3; x = uniform(4, (n,))
    f = [lambda r: lut[idx].min(), lambda r: (x * r + 1).sum(), lambda r: (np.abs(x - 0.5) * 2).max(),
         lambda r: (np.exp(x) + np.sin(x)).sum()][kind]
    t = time.perf_counter()
    for r in range(reps): f(r)
    return {"ns_per_element": (time.perf_counter() - t) / reps / n * 1e9}

progs = {"interp": interp, "walk": walk, "wave": wave, "equalize": equalize}
name = sys.argv[1]
kw = {k: (float(v) if "." in v else int(v)) for k, v in (a.split("=") for a in sys.argv[2:])}
f = progs[name.removeprefix("h_")]; f(**kw)          # warm (NumPy's BLAS loaded, caches filled)
t = time.perf_counter(); r = f(**kw); t = time.perf_counter() - t
print(json.dumps({"name": name, "seconds": t, "outputs": r}))
