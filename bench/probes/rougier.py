"""NumPy programs from N. Rougier's "From Python to Numpy" (github.com/rougier/from-python-to-numpy,
code/), kept as the book writes them (matplotlib and animation removed), for the held-out ports in
ZProbe+Rougier.swift (`r6_*` examples). Inputs that the book draws at random are drawn here with
fixed seeds and saved under /tmp/rougier/<name>_<sizes>/ for the Swift side to load.

    python3 bench/probes/rougier.py NAME [k=v ...]

prints JSON: the last rep's checksums, first_s (first rep) and best_s (best of the other reps),
wall clock, in one process.
"""
import sys, os, time, json
from collections import deque
import numpy as np

ROOT = "/tmp/rougier"


def folder(name, *sizes):
    d = os.path.join(ROOT, name + "_" + "x".join(str(s) for s in sizes))
    os.makedirs(d, exist_ok=True)
    return d


def checks(key, a, out):
    f = np.asarray(a).astype(np.float64).ravel()
    out[key + "_sum"] = float(f.sum())
    out[key + "_abs"] = float(np.abs(f).sum())
    out[key + "_e0"] = float(f[0])
    out[key + "_emid"] = float(f[f.size // 2])
    out[key + "_elast"] = float(f[-1])


def bench(reps, body):
    times, last = [], None
    for _ in range(max(reps, 1)):
        t0 = time.perf_counter()
        last = body()
        times.append(time.perf_counter() - t0)
    out = {}
    last(out)
    out["first_s"] = times[0]
    out["best_s"] = min(times[1:]) if len(times) > 1 else times[0]
    return out


# --------------------------------------------------------------- game of life (numpy) ---
def life(n=300, m=600, steps=100, reps=3):
    d = folder("life", n, m)
    Z0 = np.random.default_rng(1).integers(0, 2, (n, m))
    np.save(d + "/Z.npy", Z0)

    def run():
        Z = Z0.copy()
        M = np.zeros(Z.shape)
        for _ in range(steps):
            N = (Z[0:-2, 0:-2] + Z[0:-2, 1:-1] + Z[0:-2, 2:] +
                 Z[1:-1, 0:-2]                 + Z[1:-1, 2:] +
                 Z[2:  , 0:-2] + Z[2:  , 1:-1] + Z[2:  , 2:])
            birth = (N == 3) & (Z[1:-1, 1:-1] == 0)
            survive = ((N == 2) | (N == 3)) & (Z[1:-1, 1:-1] == 1)
            Z[...] = 0
            Z[1:-1, 1:-1][birth | survive] = 1
            M[M > 0.25] = 0.25
            M *= 0.995
            M[Z == 1] = 1

        def fill(out):
            checks("Z", Z, out)
            checks("M", M, out)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- game of life (python) ---
def compute_neighbours(Z):
    shape = len(Z), len(Z[0])
    N = [[0, ]*(shape[0]) for i in range(shape[1])]
    for x in range(1, shape[0]-1):
        for y in range(1, shape[1]-1):
            N[x][y] = Z[x-1][y-1]+Z[x][y-1]+Z[x+1][y-1] \
                    + Z[x-1][y]            +Z[x+1][y]   \
                    + Z[x-1][y+1]+Z[x][y+1]+Z[x+1][y+1]
    return N


def iterate(Z):
    shape = len(Z), len(Z[0])
    N = compute_neighbours(Z)
    for x in range(1, shape[0]-1):
        for y in range(1, shape[1]-1):
            if Z[x][y] == 1 and (N[x][y] < 2 or N[x][y] > 3):
                Z[x][y] = 0
            elif Z[x][y] == 0 and N[x][y] == 3:
                Z[x][y] = 1
    return Z


def life_python(n=64, steps=20, reps=3):
    d = folder("life_python", n)
    Z0 = np.random.default_rng(2).integers(0, 2, (n, n))
    np.save(d + "/Z.npy", Z0)

    def run():
        Z = Z0.tolist()
        for _ in range(steps):
            iterate(Z)

        def fill(out):
            checks("Z", np.array(Z), out)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- gray-scott ---
def gray_scott(n=256, frames=20, reps=3):
    d = folder("gray_scott", n)
    rng = np.random.default_rng(3)
    nu, nv = rng.uniform(-1, +1, (n, n)), rng.uniform(-1, +1, (n, n))
    np.save(d + "/noise_u.npy", nu)
    np.save(d + "/noise_v.npy", nv)
    Du, Dv, F, k = 0.16, 0.08, 0.035, 0.065

    def run():
        Z = np.zeros((n+2, n+2), [('U', np.double), ('V', np.double)])
        U, V = Z['U'], Z['V']
        u, v = U[1:-1, 1:-1], V[1:-1, 1:-1]
        r = 20
        u[...] = 1.0
        U[n//2-r:n//2+r, n//2-r:n//2+r] = 0.50
        V[n//2-r:n//2+r, n//2-r:n//2+r] = 0.25
        u += 0.05*nu
        v += 0.05*nv
        vmin = vmax = 0.0
        for frame in range(frames):
            for i in range(10):
                Lu = (                  U[0:-2, 1:-1] +
                      U[1:-1, 0:-2] - 4*U[1:-1, 1:-1] + U[1:-1, 2:] +
                                        U[2:  , 1:-1])
                Lv = (                  V[0:-2, 1:-1] +
                      V[1:-1, 0:-2] - 4*V[1:-1, 1:-1] + V[1:-1, 2:] +
                                        V[2:  , 1:-1])
                uvv = u*v*v
                u += (Du*Lu - uvv + F*(1-u))
                v += (Dv*Lv + uvv - (F+k)*v)
            vmin, vmax = V.min(), V.max()     # im.set_clim(vmin=V.min(), vmax=V.max())

        def fill(out):
            checks("U", U, out)
            checks("V", V, out)
            out["vmin"], out["vmax"] = float(vmin), float(vmax)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- mandelbrot numpy 1 ---
def mandelbrot1(xn=512, yn=512, maxiter=64, reps=3):
    xmin, xmax, ymin, ymax, horizon = -2.25, 0.75, -1.25, 1.25, 2.0

    def run():
        X = np.linspace(xmin, xmax, xn, dtype=np.float32)
        Y = np.linspace(ymin, ymax, yn, dtype=np.float32)
        C = X + Y[:, None]*1j
        N = np.zeros(C.shape, dtype=int)
        Z = np.zeros(C.shape, np.complex64)
        for n in range(maxiter):
            I = np.less(abs(Z), horizon)
            N[I] = n
            Z[I] = Z[I]**2 + C[I]
        N[N == maxiter-1] = 0

        def fill(out):
            checks("N", N, out)
            checks("Zabs", np.abs(Z), out)
            checks("Zre", Z.real, out)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- mandelbrot numpy 2 ---
def mandelbrot2(xn=512, yn=512, itermax=64, reps=3):
    xmin, xmax, ymin, ymax, horizon = -2.25, 0.75, -1.25, 1.25, 2.0

    def run():
        Xi, Yi = np.mgrid[0:xn, 0:yn]
        Xi, Yi = Xi.astype(np.uint32), Yi.astype(np.uint32)
        X = np.linspace(xmin, xmax, xn, dtype=np.float32)[Xi]
        Y = np.linspace(ymin, ymax, yn, dtype=np.float32)[Yi]
        C = X + Y*1j
        N_ = np.zeros(C.shape, dtype=np.uint32)
        Z_ = np.zeros(C.shape, dtype=np.complex64)
        Xi.shape = Yi.shape = C.shape = xn*yn

        Z = np.zeros(C.shape, np.complex64)
        for i in range(itermax):
            if not len(Z):
                break
            np.multiply(Z, Z, Z)
            np.add(Z, C, Z)
            I = abs(Z) > horizon
            N_[Xi[I], Yi[I]] = i+1
            Z_[Xi[I], Yi[I]] = Z[I]
            I = ~I
            Z = Z[I]
            Xi, Yi = Xi[I], Yi[I]
            C = C[I]
        Zt, Nt = Z_.T, N_.T

        def fill(out):
            checks("N", Nt, out)
            checks("Zabs", np.abs(Zt), out)
            checks("Zre", Zt.real, out)
            out["left"] = float(len(Z))
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- boids ---
def boids(n=500, steps=20, reps=3):
    d = folder("boids", n)
    width, height = 640, 360
    rng = np.random.default_rng(4)
    velocity0 = np.zeros((n, 2), dtype=np.float32)
    position0 = np.zeros((n, 2), dtype=np.float32)
    angle = rng.uniform(0, 2*np.pi, n)
    velocity0[:, 0] = np.cos(angle)
    velocity0[:, 1] = np.sin(angle)
    angle = rng.uniform(0, 2*np.pi, n)
    radius = min(width, height)/2*rng.uniform(0, 1, n)
    position0[:, 0] = width/2 + np.cos(angle)*radius
    position0[:, 1] = height/2 + np.sin(angle)*radius
    np.save(d + "/velocity.npy", velocity0)
    np.save(d + "/position.npy", position0)

    def flock_run(position, velocity):
        min_velocity, max_velocity, max_acceleration = 0.5, 2.0, 0.03
        n = len(position)
        dx = np.subtract.outer(position[:, 0], position[:, 0])
        dy = np.subtract.outer(position[:, 1], position[:, 1])
        distance = np.hypot(dx, dy)
        mask_0 = (distance > 0)
        mask_1 = (distance < 25)
        mask_2 = (distance < 50)
        mask_1 *= mask_0
        mask_2 *= mask_0
        mask_3 = mask_2
        mask_1_count = np.maximum(mask_1.sum(axis=1), 1)
        mask_2_count = np.maximum(mask_2.sum(axis=1), 1)
        mask_3_count = mask_2_count

        mask, count = mask_1, mask_1_count
        target = np.dstack((dx, dy))
        target = np.divide(target, distance.reshape(n, n, 1)**2, out=target,
                           where=distance.reshape(n, n, 1) != 0)
        steer = (target*mask.reshape(n, n, 1)).sum(axis=1)/count.reshape(n, 1)
        norm = np.sqrt((steer*steer).sum(axis=1)).reshape(n, 1)
        steer = max_velocity*np.divide(steer, norm, out=steer, where=norm != 0)
        steer -= velocity
        norm = np.sqrt((steer*steer).sum(axis=1)).reshape(n, 1)
        steer = np.multiply(steer, max_acceleration/norm, out=steer, where=norm > max_acceleration)
        separation = steer

        mask, count = mask_2, mask_2_count
        target = np.dot(mask, velocity)/count.reshape(n, 1)
        norm = np.sqrt((target*target).sum(axis=1)).reshape(n, 1)
        target = max_velocity * np.divide(target, norm, out=target, where=norm != 0)
        steer = target - velocity
        norm = np.sqrt((steer*steer).sum(axis=1)).reshape(n, 1)
        steer = np.multiply(steer, max_acceleration/norm, out=steer, where=norm > max_acceleration)
        alignment = steer

        mask, count = mask_3, mask_3_count
        target = np.dot(mask, position)/count.reshape(n, 1)
        desired = target - position
        norm = np.sqrt((desired*desired).sum(axis=1)).reshape(n, 1)
        desired *= max_velocity / norm
        steer = desired - velocity
        norm = np.sqrt((steer*steer).sum(axis=1)).reshape(n, 1)
        steer = np.multiply(steer, max_acceleration/norm, out=steer, where=norm > max_acceleration)
        cohesion = steer

        acceleration = 1.5 * separation + alignment + cohesion
        velocity += acceleration
        norm = np.sqrt((velocity*velocity).sum(axis=1)).reshape(n, 1)
        velocity = np.multiply(velocity, max_velocity/norm, out=velocity, where=norm > max_velocity)
        velocity = np.multiply(velocity, min_velocity/norm, out=velocity, where=norm < min_velocity)
        position += velocity
        position += (width, height)
        position %= (width, height)
        return position, velocity

    def run():
        position, velocity = position0.copy(), velocity0.copy()
        for _ in range(steps):
            position, velocity = flock_run(position, velocity)
        rotate = -np.pi/2 + np.arctan2(velocity[:, 1], velocity[:, 0])   # collection._rotate

        def fill(out):
            checks("position", position, out)
            checks("velocity", velocity, out)
            checks("rotate", rotate, out)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- maze (Bellman-Ford) ---
def build_maze(shape=(65, 65), complexity=0.75, density=0.50):
    shape = ((shape[0]//2)*2+1, (shape[1]//2)*2+1)
    n_complexity = int(complexity*(shape[0]+shape[1]))
    n_density = int(density*(shape[0]*shape[1]))
    Z = np.zeros(shape, dtype=bool)
    Z[0, :] = Z[-1, :] = Z[:, 0] = Z[:, -1] = 1
    P = np.random.normal(0, 0.5, (n_density, 2))
    P = 0.5 - np.maximum(-0.5, np.minimum(P, +0.5))
    P = (P*[shape[1], shape[0]]).astype(int)
    P = 2*(P//2)
    for i in range(n_density):
        T = Z[2:-2:2, 2:-2:2]
        if T.sum() == T.size:
            break
        x, y = P[i]
        Z[y, x] = 1
        for j in range(n_complexity):
            neighbours = []
            if x > 1:
                neighbours.append([(y, x-1), (y, x-2)])
            if x < shape[1]-2:
                neighbours.append([(y, x+1), (y, x+2)])
            if y > 1:
                neighbours.append([(y-1, x), (y-2, x)])
            if y < shape[0]-2:
                neighbours.append([(y+1, x), (y+2, x)])
            if len(neighbours):
                choice = np.random.randint(len(neighbours))
                next_1, next_2 = neighbours[choice]
                if Z[next_2] == 0:
                    Z[next_1] = Z[next_2] = 1
                    y, x = next_2
            else:
                break
    return Z


def BellmanFord(Z, start, goal):
    Z = 1 - Z
    G = np.zeros(Z.shape)
    G[start] = 1
    gamma = 0.99
    iterations = 0
    G_gamma = np.empty_like(G)
    while G[goal] == 0.0:
        np.multiply(G, gamma, out=G_gamma)
        N = G_gamma[0:-2, 1:-1]
        W = G_gamma[1:-1, 0:-2]
        C = G[1:-1, 1:-1]
        E = G_gamma[1:-1, 2:]
        S = G_gamma[2:, 1:-1]
        G[1:-1, 1:-1] = Z[1:-1, 1:-1]*np.maximum(N, np.maximum(W, np.maximum(C, np.maximum(E, S))))
        iterations += 1
    y, x = goal
    P = []
    dirs = [(0, -1), (0, +1), (-1, 0), (+1, 0)]
    while (x, y) != start:
        P.append((x, y))
        neighbours = [-1, -1, -1, -1]
        if x > 0:
            neighbours[0] = G[y, x-1]
        if x < G.shape[1]-1:
            neighbours[1] = G[y, x+1]
        if y > 0:
            neighbours[2] = G[y-1, x]
        if y < G.shape[0]-1:
            neighbours[3] = G[y+1, x]
        a = np.argmax(neighbours)
        x, y = x + dirs[a][1], y + dirs[a][0]
    P.append((x, y))
    return G, np.array(P), iterations


def maze(rows=41, cols=81, reps=3):
    d = folder("maze", rows, cols)
    np.random.seed(5)
    Z = None
    # a maze with a path from start to goal (the book assumes one; retry seeds until BFS finds it)
    for seed in range(5, 200):
        np.random.seed(seed)
        Z = build_maze((rows, cols))
        start, goal = (1, 1), (Z.shape[0]-2, Z.shape[1]-2)
        if BreadthFirst(Z, start, goal) is not None:
            break
    np.save(d + "/Z.npy", Z)

    def run():
        start, goal = (1, 1), (Z.shape[0]-2, Z.shape[1]-2)
        G, P, iterations = BellmanFord(Z, start, goal)

        def fill(out):
            checks("G", G, out)
            checks("P", P, out)
            out["path_len"] = float(len(P))
            out["iterations"] = float(iterations)
        return fill
    return bench(reps, run)


def build_graph(maze):
    height, width = maze.shape
    graph = {(i, j): [] for j in range(width) for i in range(height) if not maze[i][j]}
    for row, col in graph.keys():
        if row < height - 1 and not maze[row + 1][col]:
            graph[(row, col)].append(("S", (row + 1, col)))
            graph[(row + 1, col)].append(("N", (row, col)))
        if col < width - 1 and not maze[row][col + 1]:
            graph[(row, col)].append(("E", (row, col + 1)))
            graph[(row, col + 1)].append(("W", (row, col)))
    return graph


def BreadthFirst(maze, start, goal):
    queue = deque([([start], start)])
    visited = set()
    graph = build_graph(maze)
    while queue:
        path, current = queue.popleft()
        if current == goal:
            return np.array(path)
        if current in visited:
            continue
        visited.add(current)
        for direction, neighbour in graph[current]:
            p = list(path)
            p.append(neighbour)
            queue.append((p, neighbour))
    return None


# --------------------------------------------------------------- smoke (Stam's stable fluids) ---
def set_bnd(N, b, x):
    if b == 1:
        x[0, 1:-1] = -x[1, 1:-1]
        x[-1, 1:-1] = -x[N, 1:-1]
    else:
        x[0, 1:-1] = x[1, 1:-1]
        x[-1, 1:-1] = x[N, 1:-1]
    if b == 2:
        x[1:-1, 0] = -x[1:-1, 1]
        x[1:-1, -1] = -x[1:-1, N]
    else:
        x[1:-1, 0] = x[1:-1, 1]
        x[1:-1, -1] = x[1:-1, N]
    x[0, 0] = 0.5 * (x[1, 0] + x[0, 1])
    x[0, -1] = 0.5 * (x[1, -1] + x[0, N])
    x[-1, 0] = 0.5 * (x[N, 0] + x[-1, 1])
    x[-1, -1] = 0.5 * (x[N, -1] + x[-1, N])


def lin_solve(N, b, x, x0, a, c):
    for k in range(20):
        x[1:-1, 1:-1] = (x0[1:-1, 1:-1] +
                         a * (x[:N, 1:-1] + x[2:, 1:-1] +
                              x[1:-1, :N] + x[1:-1, 2:])) / c
        set_bnd(N, b, x)


def add_source(N, x, s, dt):
    x += dt * s


def diffuse(N, b, x, x0, diff, dt):
    a = dt * diff * N * N
    lin_solve(N, b, x, x0, a, 1 + 4 * a)


def advect(N, b, d, d0, u, v, dt):
    dt0 = dt * N
    I, J = np.indices((N, N))
    I += 1
    J += 1
    X = I - dt0 * u[I, J]
    Y = J - dt0 * v[I, J]
    X = np.minimum(np.maximum(X, 0.5), N+0.5)
    I0 = X.astype(int)
    I1 = I0+1
    S1 = X - I0
    S0 = 1 - S1
    Y = np.minimum(np.maximum(Y, 0.5), N+0.5)
    J0 = Y.astype(int)
    J1 = J0 + 1
    T1 = Y - J0
    T0 = 1 - T1
    d[I, J] = (S0 * (T0 * d0[I0, J0] + T1 * d0[I0, J1])
               + S1 * (T0 * d0[I1, J0] + T1 * d0[I1, J1]))
    set_bnd(N, b, d)


def project(N, u, v, p, div):
    h = 1.0 / N
    div[1:-1, 1:-1] = (-0.5 * h *
                       (u[2:, 1:-1] - u[0:N, 1:-1] +
                        v[1:-1, 2:] - v[1:-1, 0:N]))
    p[1:-1, 1:-1] = 0
    set_bnd(N, 0, div)
    set_bnd(N, 0, p)
    lin_solve(N, 0, p, div, 1, 4)
    u[1:-1, 1:-1] -= 0.5 * (p[2:, 1:-1] - p[0:N, 1:-1]) / h
    v[1:-1, 1:-1] -= 0.5 * (p[1:-1, 2:] - p[1:-1, 0:N]) / h
    set_bnd(N, 1, u)
    set_bnd(N, 2, v)


def dens_step(N, x, x0, u, v, diff, dt):
    add_source(N, x, x0, dt)
    x0, x = x, x0
    diffuse(N, 0, x, x0, diff, dt)
    x0, x = x, x0
    advect(N, 0, x, x0, u, v, dt)


def vel_step(N, u, v, u0, v0, visc, dt):
    add_source(N, u, u0, dt)
    add_source(N, v, v0, dt)
    u0, u = u, u0
    diffuse(N, 1, u, u0, visc, dt)
    v0, v = v, v0
    diffuse(N, 2, v, v0, visc, dt)
    project(N, u, v, u0, v0)
    u0, u = u, u0
    v0, v = v, v0
    advect(N, 1, u, u0, u0, v0, dt)
    advect(N, 2, v, v0, u0, v0, dt)
    project(N, u, v, u0, v0)


def smoke(N=128, steps=10, reps=3):
    d = folder("smoke", N)
    size = N + 2
    rng = np.random.default_rng(6)
    nu, nv = rng.uniform(-1, 1, (size, size)), rng.uniform(-1, 1, (size, size))
    np.save(d + "/noise_u.npy", nu)
    np.save(d + "/noise_v.npy", nv)
    dt, diff, visc, force, source = 0.1, 0.0, 0.0, 5.0, 100.0

    def run():
        u = np.zeros((size, size), np.float32)
        u_prev = np.zeros((size, size), np.float32)
        v = np.zeros((size, size), np.float32)
        v_prev = np.zeros((size, size), np.float32)
        dens = np.zeros((size, size), np.float32)
        dens_prev = np.zeros((size, size), np.float32)

        def disc(shape=(size, size), center=(size/2, size/2), radius=10):
            def distance(x, y):
                return np.sqrt((x-center[0])**2+(y-center[1])**2)
            D = np.fromfunction(distance, shape)
            return np.where(D <= radius, True, False)

        D = disc(radius=32) ^ disc(radius=16)
        dens[...] = D*source/10
        u[:, :] = force * 0.1 * nu
        v[:, :] = force * 0.1 * nv
        for _ in range(steps):
            vel_step(N, u, v, u_prev, v_prev, visc, dt)
            dens_step(N, dens, dens_prev, u, v, diff, dt)
            lo, hi = dens.min(), dens.max()      # im.set_clim(vmin=dens.min(), vmax=dens.max())

        def fill(out):
            checks("dens", dens, out)
            checks("u", u, out)
            checks("v", v, out)
            out["dens_min"], out["dens_max"] = float(lo), float(hi)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- fractal dimension ---
def fractal_dimension(Z, threshold=0.9):
    def boxcount(Z, k):
        S = np.add.reduceat(
            np.add.reduceat(Z, np.arange(0, Z.shape[0], k), axis=0),
                               np.arange(0, Z.shape[1], k), axis=1)
        return len(np.where((S > 0) & (S < k*k))[0])
    Z = (Z < threshold)
    p = min(Z.shape)
    n = 2**np.floor(np.log(p)/np.log(2))
    n = int(np.log(n)/np.log(2))
    sizes = 2**np.arange(n, 1, -1)
    counts = []
    for size in sizes:
        counts.append(boxcount(Z, size))
    coeffs = np.polyfit(np.log(sizes), np.log(counts), 1)
    return -coeffs[0], counts


def fractal(n=512, m=768, reps=3):
    d = folder("fractal", n, m)
    # an image with structure at every scale: 1 - |a sum of random waves| (the book reads a map of
    # Great Britain, 1.0 - imread(...)/255, and thresholds it at 0.25)
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:n, 0:m] / 64.0
    img = np.zeros((n, m))
    for o in range(6):
        f = 2.0 ** o
        img += np.sin(f * x * rng.uniform(0.5, 1.5) + rng.uniform(0, 6)) * np.cos(f * y * rng.uniform(0.5, 1.5)) / f
    img = 1.0 - np.abs(img) / np.abs(img).max()
    np.save(d + "/Z.npy", img)

    def run():
        D, counts = fractal_dimension(img, threshold=0.25)

        def fill(out):
            out["dimension"] = float(D)
            for i, c in enumerate(counts):
                out["count%d" % i] = float(c)
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- random walk ---
def find_crossing_2(seq, sub):
    target = np.dot(sub, sub)
    candidates = np.where(np.correlate(seq, sub, mode='valid') == target)[0]
    check = candidates[:, np.newaxis] + np.arange(len(sub))
    mask = np.all((np.take(seq, check) == sub), axis=-1)
    return candidates[mask]


def walk(n=1000, reps=3):
    d = folder("walk", n)
    np.random.seed(8)
    steps0 = np.random.choice([-1, +1], n)
    np.save(d + "/steps.npy", steps0)

    def run():
        steps = steps0          # random_walk_fastest: steps = np.random.choice([-1,+1], n)
        W = np.cumsum(steps)
        C = find_crossing_2(W, [+1, 0, -1])

        def fill(out):
            checks("W", W, out)
            out["crossings"] = float(len(C))
            out["crossing_sum"] = float(C.sum())
            out["crossing_first"] = float(C[0]) if len(C) else -1.0
        return fill
    return bench(reps, run)


# --------------------------------------------------------------- DART sampling ---
def dart(radius=0.05, k=100, reps=3):
    from scipy.spatial.distance import cdist
    width = height = 1.0
    n = int((width+radius)*(height+radius) / (2*(radius/2)*(radius/2)*np.sqrt(3))) + 1
    n = 5*n
    d = folder("dart", n)
    rng = np.random.default_rng(9)
    P0 = np.zeros((n, 2))
    P0[:, 0] = rng.uniform(0, width, n)
    P0[:, 1] = rng.uniform(0, height, n)
    np.save(d + "/P.npy", P0)

    def run():
        P = P0
        D = cdist(P, P)
        D[range(n), range(n)] = 1e10
        points, indices = [P[0]], [0]
        i = 1
        last_success = 0
        while i < n and i - last_success < k:
            if D[i, indices].min() > radius:
                indices.append(i)
                points.append(P[i])
                last_success = i
            i += 1
        pts = np.array(points)

        def fill(out):
            checks("points", pts, out)
            out["count"] = float(len(points))
            out["n"] = float(n)
            out["last_i"] = float(i)
        return fill
    return bench(reps, run)


PROGRAMS = {"life": life, "life_python": life_python, "gray_scott": gray_scott,
            "mandelbrot1": mandelbrot1, "mandelbrot2": mandelbrot2, "boids": boids, "maze": maze,
            "smoke": smoke, "fractal": fractal, "walk": walk, "dart": dart}

if __name__ == "__main__":
    name = sys.argv[1]
    kw = {}
    for a in sys.argv[2:]:
        k, v = a.split("=")
        kw[k] = float(v) if "." in v else int(v)
    print(json.dumps(PROGRAMS[name](**kw), sort_keys=True))
