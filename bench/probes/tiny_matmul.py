"""NumPy's side of the z_tinymm probe: m = (m @ r) * 0.999 + e on k x k matrices, steps times."""
import sys, time
import numpy as np

def main():
    k = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rng = np.random.default_rng(5)
    r = rng.uniform(-0.5, 0.5, (k, k)); e = rng.uniform(0, 0.01, (k, k))
    m = np.eye(k)
    best = 1e9
    for _ in range(3):
        m = np.eye(k)
        t0 = time.perf_counter()
        for _ in range(steps):
            m = (m @ r) * 0.999 + e
        best = min(best, time.perf_counter() - t0)
    print(f"k {k} steps {steps}: {best:.5f} s, {best / steps * 1e6:.2f} us a step, sum {m.sum():.6g}")

main()
