// Programs ported from NumPy by hand to probe the default path on programs nobody tuned for
// (thirteenth session): N-body by broadcasting, periodic advection-diffusion with rolled,
// Jacobi with a convergence read every iteration, softmax regression, random walks with
// cumsum and histogram, box blur and Sobel edges; `rows` times short-row reductions. Their
// NumPy versions are probe.py beside this file. To run them, copy this file into Examples/,
// add the entries of examples.txt to `Examples.all`, build, and run measure.sh (see README.md).
import Tandem
#if canImport(Glibc)
import Glibc
#endif

public enum ZProbe {
    /// `cumsum` and `sort` of a rows x cols matrix along `axis` (seventeenth session), each synced
    /// (`Tandem.wait`), best of `reps`, in ms.
    // Decompositions (nineteenth session): each of cholesky, qr, eigh, svd of an n x n matrix
    // (symmetric positive definite for the first and third), synced, best of `reps`, in ms.
    public static func linalg(n: Int, reps: Int) throws -> [String: Double] {
        let x = Tensor<Double>.uniform([n, n], seed: 13, in: -1...1)
        let spd = x.matmul(x.transposed) + Tensor<Double>.eye(n) * Double(n)
        try Tandem.wait(x, spd)
        func best(_ body: () throws -> Double) rethrows -> (ms: Double, value: Double) {
            var ms = Double.infinity, value = 0.0
            for _ in 0..<reps {
                let t = ContinuousClock.now
                value = try body()
                let d = ContinuousClock.now - t
                ms = Swift.min(ms, Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
            }
            return (ms, value)
        }
        let c = try best { try spd.cholesky()[n - 1, n - 1].item() }
        let q = try best { try x.qr().r[n - 1, n - 1].item() }
        let e = try best { try spd.eigvalsh()[n - 1].item() }
        let v = try best { try spd.eigh().values[0].item() }
        let s = try best { try x.svd().s[0].item() }
        return ["cholesky_ms": c.ms, "qr_ms": q.ms, "eigvalsh_ms": e.ms, "eigh_ms": v.ms, "svd_ms": s.ms,
                "l_last": c.value, "r_last": q.value, "lambda_max": e.value, "sigma_max": s.value]
    }

    // Recurrences written a row (or an element) at a time, as in a plain NumPy loop (nineteenth
    // session): each row is the previous one damped plus its own value; `cols` 1 is a vector.
    public static func recur(n: Int, cols: Int) throws -> [String: Double] {
        var u = cols == 1 ? Tensor<Double>.uniform([n], seed: 11, in: 0...1) : Tensor<Double>.uniform([n, cols], seed: 11, in: 0...1)
        for i in 1..<n {
            if cols == 1 { u[i] = u[i - 1] * 0.5 + u[i] } else { u[i, .all] = u[i - 1, .all] * 0.5 + u[i, .all] }
        }
        return ["sum": try u.sum().item(), "last": try u.flattened()[u.count - 1].item()]
    }

    // Periodic diffusion by rolls (numpy.roll along both axes), nothing read in the loop.
    public static func roll(n: Int, steps: Int) throws -> [String: Double] {
        var u = Tensor<Double>.uniform([n, n], seed: 9, in: 0...1)
        for _ in 0..<steps {
            u = 0.25 * (u.rolled(by: 1, axis: 0) + u.rolled(by: -1, axis: 0) + u.rolled(by: 1, axis: 1) + u.rolled(by: -1, axis: 1))
        }
        return ["sum": try u.sum().item(), "u0": try u[0, 0].item()]
    }

    // Periodic diffusion on ghost cells: the field padded by wrapping each step (numpy.pad
    // mode="wrap"), the stencil read from the padded array; nothing read in the loop.
    public static func pad(n: Int, steps: Int) throws -> [String: Double] {
        var u = Tensor<Double>.uniform([n, n], seed: 9, in: 0...1)
        for _ in 0..<steps {
            let g = u.padded([(1, 1)], mode: .wrap)
            u = 0.25 * (g[0..<n, 1...n] + g[2...(n + 1), 1...n] + g[1...n, 0..<n] + g[1...n, 2...(n + 1)])
        }
        return ["sum": try u.sum().item(), "u0": try u[0, 0].item()]
    }

    public static func scan(rows: Int, cols: Int, axis: Int, reps: Int) throws -> [String: Double] {
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        let x = Tensor(try Tensor<Double>.uniform([rows, cols], seed: 5, in: -1...1).scalars, shape: [rows, cols])
        var bestScan = 1e9, bestSort = 1e9, last = 0.0, first = 0.0
        for _ in 0..<reps {
            let t0 = now(); let c = try x.cumsum(axis: axis); try Tandem.wait(c); bestScan = min(bestScan, now() - t0)
            let t1 = now(); let s = try x.sorted(axis: axis); try Tandem.wait(s); bestSort = min(bestSort, now() - t1)
            last = try c[rows - 1, cols - 1].item(); first = try s[0, 0].item()
        }
        return ["cumsum_ms": bestScan * 1e3, "sort_ms": bestSort * 1e3, "last": last, "first": first]
    }
    /// Thin matrix products (seventeenth session): `x @ w` (n x d by d x k) and `x.T @ g`
    /// (d x n by n x k), each synced, best of `reps`, in µs; mode 2 makes w and g vectors.
    public static func thin(n: Int, d: Int, k: Int, reps: Int, vector: Bool = false) throws -> [String: Double] {
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        let x = Tensor(try Tensor<Double>.uniform([n, d], seed: 1, in: -1...1).scalars, shape: [n, d])
        // vector: w and g of shapes (d,) and (n,) (NumPy's matrix-vector products; k is 1).
        let w = Tensor(try Tensor<Double>.uniform([d, vector ? 1 : k], seed: 2, in: -1...1).scalars, shape: vector ? [d] : [d, k])
        let g = Tensor(try Tensor<Double>.uniform([n, vector ? 1 : k], seed: 3, in: -1...1).scalars, shape: vector ? [n] : [n, k])
        var bestA = 1e9, bestB = 1e9, sa = 0.0, sb = 0.0
        for _ in 0..<reps {
            let t0 = now(); let a = x.matmul(w); try Tandem.wait(a); bestA = min(bestA, now() - t0)
            let t1 = now(); let b = x.transposed.matmul(g); try Tandem.wait(b); bestB = min(bestB, now() - t1)
            sa = try a.sum().item(); sb = try b.sum().item()
        }
        return ["xw_us": bestA * 1e6, "xtg_us": bestB * 1e6, "xw_sum": sa, "xtg_sum": sb]
    }
    /// `fft` of `rows` rows of `n` points (one sync each), best of `reps`, in ms (sixteenth session).
    public static func fft(n: Int, rows: Int, reps: Int) throws -> [String: Double] {
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        let x = Tensor(try Tensor<Double>.uniform([rows, n], seed: 3, in: -1...1).scalars, shape: [rows, n])
        var best = 1e9, total = 0.0
        for _ in 0..<reps {
            let t0 = now()
            let f = try x.fft()
            try f.flush()
            total = try f.abs().sum().item()
            best = min(best, now() - t0)
        }
        return ["fft_ms": best * 1e3, "abs_sum": total]
    }
    /// Mandelbrot escape counts with complex tensors (`z = z * z + c`), as a NumPy user writes
    /// it with complex128 (sixteenth session).
    public static func cmandel(width: Int, height: Int, iterations: Int) throws -> [String: Double] {
        let c = ComplexTensor(real: Tensor<Double>.linspace(-2, 0.5, count: width).reshaped([1, width]),
                              imaginary: Tensor<Double>.linspace(-1.25, 1.25, count: height).reshaped([height, 1]))
        var z = ComplexTensor<Double>.zeros([height, width])
        var count = Tensor<Int32>.zeros([height, width])
        for _ in 0..<iterations {
            let inside = z.abs() .<= 2
            z = select(inside, z * z + c, z)
            count = count + Tensor<Int32>(inside)
        }
        return ["total": Double(try count.sum().item()), "inside": Double(try (z.abs() .<= 2).sum().item())]
    }
    /// solve and det of an n x n system (a dominant diagonal), best of `reps`, in ms.
    public static func solve(n: Int, reps: Int) throws -> [String: Double] {
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        let a = Tensor(try (Tensor<Double>.uniform([n, n], seed: 1, in: -1...1) + Tensor<Double>.eye(n) * Double(n)).scalars, shape: [n, n])
        let b = Tensor(try Tensor<Double>.uniform([n], seed: 2, in: -1...1).scalars, shape: [n])
        var best = 1e9, bestDet = 1e9, x0 = 0.0
        for _ in 0..<reps {
            let t0 = now(); x0 = try a.solve(b)[0].item(); best = min(best, now() - t0)
            let t1 = now(); _ = try a.determinant().item(); bestDet = min(bestDet, now() - t1)
        }
        return ["solve_ms": best * 1e3, "det_ms": bestDet * 1e3, "x0": x0]
    }
    /// Cavity flow's Poisson loop on an n x n grid: mode 1 the stencil alone, 2 the four border
    /// writes alone, 3 both (fifteenth session: sequence kernels).
    public static func bc(n: Int, iters: Int, mode: Int) throws -> [String: Double] {
        var p = Tensor<Double>.uniform([n, n], seed: 1, in: 0...1)
        let inner = 1..<(n - 1), east = 2..<n, west = 0..<(n - 2)
        for _ in 0..<iters {
            if mode != 2 {
                let pn = p
                p[inner, inner] = (pn[inner, east] + pn[inner, west] + pn[east, inner] + pn[west, inner]) * 0.25
            }
            if mode != 1 {
                p[.all, n - 1] = p[.all, n - 2]
                p[0, .all] = p[1, .all]
                p[.all, 0] = p[.all, 1]
                p[n - 1, .all] = Tensor(0.0)
            }
        }
        return ["sum": try p.sum().item()]
    }

    /// Tiny matrix products in a loop without reads: `m = (m @ r) * 0.999 + e` on k x k matrices,
    /// `steps` times, then one sum. Seconds in all (bench/probes/tiny_matmul.py is NumPy's).
    public static func tinyMatmul(k: Int, steps: Int) throws -> [String: Double] {
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        let r = Tensor(try Tensor<Double>.uniform([k, k], seed: 5, in: -0.5...0.5).scalars, shape: [k, k])
        let e = Tensor(try Tensor<Double>.uniform([k, k], seed: 6, in: 0...0.01).scalars, shape: [k, k])
        var m = Tensor<Double>.eye(k)
        _ = try m.sum().item()
        let t0 = now()
        for _ in 0..<steps { m = m.matmul(r) * 0.999 + e }
        let total = try m.sum().item()
        return ["seconds": now() - t0, "sum": total]
    }
    public static func trivial(n: Int) throws -> [String: Double] {
        let x = Tensor<Double>.uniform([n], seed: 1, in: 0...1)
        let a = try (x * 2 + 1).sum().item()
        let b = try (x * x).max().item()
        return ["a": a, "b": b]
    }
    public static func rows(n: Int, reps: Int) throws -> [String: Double] {
        var out: [String: Double] = [:]
        func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        for d in [3, 4, 5, 6, 7, 8, 12] {
            let x = Tensor(try Tensor<Double>.uniform([n, d], seed: 3, in: 0.5...2).scalars, shape: [n, d])
            let y = Tensor(try Tensor<Double>.uniform([n, d], seed: 4, in: 0.5...2).scalars, shape: [n, d])
            for (name, f) in [("mul", { (a: Tensor<Double>, b: Tensor<Double>) in (a * b).sum(axis: 1) }), ("log", { (a: Tensor<Double>, b: Tensor<Double>) in (b * a.log()).sum(axis: 1) })] {
                _ = try f(x, y).sum().item()
                var best = 1e9
                for _ in 0..<reps { let t0 = now(); _ = try f(x, y)[0].item(); best = min(best, now() - t0) }
                out["\(name)\(d)"] = best / Double(n * d) * 1e9
            }
        }
        return out
    }
    // 1. N-body, all pairs by broadcasting, leapfrog.
    public static func nbody(n: Int, steps: Int) throws -> [String: Double] {
        var pos = Tensor<Double>.uniform([n, 3], seed: 3, in: -1...1)
        var vel = Tensor<Double>.zeros([n, 3])
        let mass = Tensor<Double>.uniform([n], seed: 4, in: 0.5...1.5) / Double(n)
        let dt = 0.01, soft = 0.1
        func accel(_ p: Tensor<Double>) -> Tensor<Double> {
            let d = p.expandingDims(at: 0) - p.expandingDims(at: 1)         // [n, n, 3]: p[j] - p[i]
            let r2 = (d * d).sum(axis: 2) + soft * soft
            let inv = mass.expandingDims(at: 0) / (r2 * r2.sqrt())
            return (d * inv.expandingDims(at: 2)).sum(axis: 1)
        }
        var a = accel(pos)
        for _ in 0..<steps {
            vel = vel + 0.5 * dt * a
            pos = pos + dt * vel
            a = accel(pos)
            vel = vel + 0.5 * dt * a
        }
        let ke = 0.5 * (mass * (vel * vel).sum(axis: 1)).sum()
        return ["ke": try ke.item(), "x0": try pos[0, 0].item(), "com": try (mass.expandingDims(at: 1) * pos).sum(axis: 0)[1].item()]
    }

    // 2. 1-D periodic advection-diffusion with rolled.
    public static func burgers(n: Int, steps: Int) throws -> [String: Double] {
        let x = Tensor<Double>.linspace(0, 2 * Double.pi, count: n)
        var u = x.sin() + 1.5
        let dx = 2 * Double.pi / Double(n), nu = 0.05, dt = 0.2 * dx * dx / nu
        for _ in 0..<steps {
            let up = u.rolled(by: -1), um = u.rolled(by: 1)
            u = u - dt * u * (u - um) / dx + nu * dt * (up - 2 * u + um) / (dx * dx)
        }
        return ["sum": try u.sum().item(), "max": try u.max().item(), "u5": try u[5].item()]
    }

    // 3. Jacobi with a convergence read every iteration (while loop).
    public static func jacobi(n: Int, tol: Double) throws -> [String: Double] {
        var u = Tensor<Double>.zeros([n, n])
        u[0, .all] = Tensor(1.0)
        var it = 0
        while true {
            let new = 0.25 * (u[0..<(n - 2), 1..<(n - 1)] + u[2..<n, 1..<(n - 1)] + u[1..<(n - 1), 0..<(n - 2)] + u[1..<(n - 1), 2..<n])
            let diff = try (new - u[1..<(n - 1), 1..<(n - 1)]).abs().max().item()
            u[1..<(n - 1), 1..<(n - 1)] = new
            it += 1
            if diff < tol || it >= 5000 { break }
        }
        return ["iterations": Double(it), "mean": try u.mean().item(), "mid": try u[n / 2, n / 2].item()]
    }

    // 4. Softmax regression by gradient descent, accuracy via argmax.
    public static func softmax(n: Int, d: Int, k: Int, epochs: Int) throws -> [String: Double] {
        let X = Tensor<Double>.normal([n, d], seed: 7, mean: 0, std: 1)
        let trueW = Tensor<Double>.normal([d, k], seed: 8, mean: 0, std: 1)
        let y = X.matmul(trueW).argmax(axis: 1)
        let Y = Tensor<Double>(Tensor<Int64>.arange(0, Int64(k)).expandingDims(at: 0) .== y.expandingDims(at: 1))
        var W = Tensor<Double>.zeros([d, k])
        var loss = 0.0
        for _ in 0..<epochs {
            let z = X.matmul(W)
            let zs = z - z.max(axis: 1, keepDims: true)
            let e = zs.exp()
            let prob = e / e.sum(axis: 1, keepDims: true)
            loss = try (-(Y * (prob + 1e-12).log()).sum(axis: 1).mean()).item()
            let grad = X.transposed.matmul(prob - Y) / Double(n)
            W = W - 0.5 * grad
        }
        let acc = try (X.matmul(W).argmax(axis: 1) .== y).mean().item()
        return ["loss": loss, "accuracy": acc, "w00": try W[0, 0].item()]
    }

    // 5. Random walks: cumsum of steps, histogram of end points.
    public static func walks(walkers: Int, steps: Int) throws -> [String: Double] {
        let r = Tensor<Double>.uniform([walkers, steps], seed: 11, in: 0...1)
        let stepsT = select(r .< 0.5, Tensor(-1.0), Tensor(1.0))
        let paths = try stepsT.cumsum(axis: 1)
        let end = paths[.all, steps - 1]
        let (counts, _) = try end.histogram(bins: 10, range: -30...30)
        let maxDist = paths.abs().max(axis: 1)
        return ["mean_end": try end.mean().item(), "var_end": try end.variance().item(),
                "c5": Double(try counts[5].item()), "mean_max": try maxDist.mean().item()]
    }

    // 6. Image: reflect-padded 3x3 blur, Sobel magnitude, threshold count.
    public static func edges(h: Int, w: Int) throws -> [String: Double] {
        let yy = Tensor<Double>.arange(0, Double(h)).expandingDims(at: 1)
        let xx = Tensor<Double>.arange(0, Double(w)).expandingDims(at: 0)
        var img = ((xx * 0.1).sin() * (yy * 0.07).cos() + 1) * 100
        img = img + Tensor<Double>.uniform([h, w], seed: 5, in: 0...10)
        let p = img.padded([(1, 1), (1, 1)], mode: .reflect)
        var blur = Tensor<Double>.zeros([h, w])
        for dy in 0..<3 { for dx in 0..<3 { blur = blur + p[dy..<(dy + h), dx..<(dx + w)] / 9 } }
        let q = blur.padded([(1, 1), (1, 1)], mode: .edge)
        let gx = (q[0..<h, 2..<(w + 2)] + 2 * q[1..<(h + 1), 2..<(w + 2)] + q[2..<(h + 2), 2..<(w + 2)])
            - (q[0..<h, 0..<w] + 2 * q[1..<(h + 1), 0..<w] + q[2..<(h + 2), 0..<w])
        let gy = (q[2..<(h + 2), 0..<w] + 2 * q[2..<(h + 2), 1..<(w + 1)] + q[2..<(h + 2), 2..<(w + 2)])
            - (q[0..<h, 0..<w] + 2 * q[0..<h, 1..<(w + 1)] + q[0..<h, 2..<(w + 2)])
        let mag = (gx * gx + gy * gy).sqrt()
        let strong = (mag .> 20).sum()
        return ["blur_mean": try blur.mean().item(), "mag_max": try mag.max().item(), "strong": Double(try strong.item()),
                "median": try mag.median().item()]
    }
}

extension ZProbe {
    /// A small loop nest's fixed cost (twenty-second session): gesummv's main nest on n x n
    /// inputs made once, run `reps` times; the `Tandem.loop` call (tracing the closure and
    /// turning it into array operations) and the sync after it timed apart, mean µs each.
    public static func nest(n: Int, reps: Int) throws -> [String: Double] {
        let a = Tensor<Double>.uniform([n, n], seed: 1, in: 0...1), b = Tensor<Double>.uniform([n, n], seed: 2, in: 0...1)
        let x = Tensor<Double>.uniform([n], seed: 3, in: 0...1)
        try Tandem.wait(a, b, x)
        var loopNanos: UInt64 = 0, syncNanos: UInt64 = 0, last = 0.0
        for _ in 0..<reps {
            var tmp = Tensor<Double>.zeros([n]), y = Tensor<Double>.zeros([n])
            let t0 = ContinuousClock.now
            Tandem.loop(0..<n) { i in
                tmp[i] = Tensor<Double>(0)
                y[i] = Tensor<Double>(0)
                Tandem.loop(0..<n) { j in
                    tmp[i] = a[i, j] * x[j] + tmp[i]
                    y[i] = b[i, j] * x[j] + y[i]
                }
                y[i] = 1.5 * tmp[i] + 1.2 * y[i]
            }
            let t1 = ContinuousClock.now
            try Tandem.wait(y)
            let t2 = ContinuousClock.now
            func ns(_ d: Duration) -> UInt64 { UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000) }
            loopNanos += ns(t1 - t0)
            syncNanos += ns(t2 - t1)
            last = try y[0].item()
        }
        return ["loop_us": Double(loopNanos) / Double(reps) / 1e3, "sync_us": Double(syncNanos) / Double(reps) / 1e3, "y0": last]
    }
}

extension ZProbe {
    /// Two row reductions of n x n matrices by one vector (gesummv's `A x` and `B x` as arrays),
    /// best of `reps` in µs; `show` 1 prints the generated C.
    public static func gemv2(n: Int, reps: Int, show: Int) throws -> [String: Double] {
        let a = Tensor<Double>.uniform([n, n], seed: 1, in: 0...1), b = Tensor<Double>.uniform([n, n], seed: 2, in: 0...1)
        let x = Tensor<Double>.uniform([n], seed: 3, in: 0...1)
        try Tandem.wait(a, b, x)
        func step() -> Tensor<Double> { 1.5 * (a * x).sum(axis: 1) + 1.2 * (b * x).sum(axis: 1) }
        if show == 1 { for c in Tandem.generatedC(step()) { print(c) } }
        var best = Double.infinity, last = 0.0
        for _ in 0..<reps {
            let t = ContinuousClock.now
            let y = step()
            try Tandem.wait(y)
            let d = ContinuousClock.now - t
            best = Swift.min(best, Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) * 1e-12)
            last = try y[0].item()
        }
        return ["best_us": best, "y0": last]
    }
}
