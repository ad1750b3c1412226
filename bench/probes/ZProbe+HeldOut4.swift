import Foundation
import Tandem

// Programs ported from the README and the public doc comments alone by a held-out tester:
// registered as `h4_*` examples by examples4.txt; NumPy versions in heldout4.py.
public enum ZHeldOut4 {
    /// Many independent Kepler orbits (GM = 1) integrated together by classical RK4, state [4, n].
    public static func rk4Orbits(n: Int = 10000, steps: Int = 200, dt: Double = 0.02) throws -> [String: Double] {
        let r0 = Tensor<Double>.uniform([n], seed: 71, in: 0.5...1.5)
        let ecc = Tensor<Double>.uniform([n], seed: 72, in: 0.0...0.6)
        let phi = Tensor<Double>.uniform([n], seed: 73, in: 0.0...(2 * Double.pi))
        let v0 = ((1 + ecc) / r0).sqrt()
        var s = Tensor.stack([r0 * phi.cos(), r0 * phi.sin(), -v0 * phi.sin(), v0 * phi.cos()])

        func f(_ s: Tensor<Double>) -> Tensor<Double> {
            let x = s[0], y = s[1]
            let r3 = (x * x + y * y).pow(1.5)
            return Tensor.stack([s[2], s[3], -x / r3, -y / r3])
        }

        func energy(_ s: Tensor<Double>) -> Tensor<Double> {
            0.5 * (s[2].pow(2) + s[3].pow(2)) - 1 / (s[0].pow(2) + s[1].pow(2)).sqrt()
        }

        let E0 = energy(s)
        let L0 = s[0] * s[3] - s[1] * s[2]
        for _ in 0..<steps {
            let k1 = f(s)
            let k2 = f(s + 0.5 * dt * k1)
            let k3 = f(s + 0.5 * dt * k2)
            let k4 = f(s + dt * k3)
            s = s + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        }
        let E = energy(s)
        let L = s[0] * s[3] - s[1] * s[2]
        let r = Tensor.hypot(s[0], s[1])
        return ["energy_drift": try ((E - E0) / E0).abs().max().item(), "angmom_drift": try (L - L0).abs().max().item(),
                "mean_r": try r.mean().item(), "max_r": try r.max().item(), "mean_E": try E.mean().item(),
                "x_sum": try s[0].sum().item(), "vy_sum": try s[3].sum().item()]
    }

    /// Sod's shock tube: finite volumes, MUSCL with the minmod limiter, Rusanov fluxes, Heun steps,
    /// dt from the CFL condition every step (a read each step).
    public static func sod(n: Int = 400, tEnd: Double = 0.2, cfl: Double = 0.4, gamma: Double = 1.4) throws -> [String: Double] {
        let dx = 1.0 / Double(n)
        let x = (Tensor<Double>.arange(Double(n)) + 0.5) * dx
        let rho0: Tensor<Double> = `where`(x .< 0.5, 1.0, 0.125)
        let p0: Tensor<Double> = `where`(x .< 0.5, 1.0, 0.1)
        var U = Tensor.stack([rho0, Tensor<Double>.zeros([n]), p0 / (gamma - 1)])

        func minmod(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Tensor<Double> {
            select(a * b .> 0, a.sign() * Tensor.minimum(a.abs(), b.abs()), 0.0)
        }

        func prim(_ U: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>, Tensor<Double>) {
            let rho = U[0]
            let u = U[1] / rho
            return (rho, u, (gamma - 1) * (U[2] - 0.5 * rho * u * u))
        }

        func consFlux(_ W: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>) {
            let rho = W[0], u = W[1], p = W[2]
            let E = p / (gamma - 1) + 0.5 * rho * u * u
            return (Tensor.stack([rho, rho * u, E]), Tensor.stack([rho * u, rho * u * u + p, u * (E + p)]))
        }

        func L(_ U: Tensor<Double>) -> Tensor<Double> {
            let (r, u, p) = prim(U)
            let W = Tensor.stack([r, u, p])
            let Wg = W.padded([(0, 0), (2, 2)], mode: .edge)
            let d = Wg[.all, 1...] - Wg[.all, ..<(-1)]
            let s = minmod(d[.all, ..<(-1)], d[.all, 1...])
            let WL = Wg[.all, 1..<(n + 2)] + 0.5 * s[.all, 0..<(n + 1)]
            let WR = Wg[.all, 2..<(n + 3)] - 0.5 * s[.all, 1..<(n + 2)]
            let (UL, FL) = consFlux(WL)
            let (UR, FR) = consFlux(WR)
            // 2.2 s to type-check without a type annotation (0.3 s with `let a: Tensor<Double>`)
            let a = Tensor.maximum(WL[1].abs() + (gamma * WL[2] / WL[0]).sqrt(), WR[1].abs() + (gamma * WR[2] / WR[0]).sqrt())
            let F = 0.5 * (FL + FR) - 0.5 * a * (UR - UL)
            return -(F[.all, 1...] - F[.all, ..<(-1)]) / dx
        }

        var t = 0.0
        var steps = 0
        while t < tEnd {
            let (rho, u, p) = prim(U)
            var dt = cfl * dx / (try (u.abs() + (gamma * p / rho).sqrt()).max().item())
            dt = Swift.min(dt, tEnd - t)
            let U1 = U + dt * L(U)
            U = 0.5 * (U + U1 + dt * L(U1))
            t += dt
            steps += 1
        }
        let (rho, u, p) = prim(U)
        let grad = rho.diff().abs()
        let off = n / 2 + n / 10
        let shock = Int(try grad[off...].argmax().item()) + off
        return ["steps": Double(steps), "mass": try U[0].sum().item() * dx, "energy": try U[2].sum().item() * dx,
                "u_max": try u.max().item(), "p_mid": try p[n / 2].item(), "rho_right": try rho[Int(0.8 * Double(n))].item(),
                "shock_x": try x[shock].item(), "tv_rho": try grad.sum().item()]
    }

    /// A Canny-like edge detector on a synthetic image: separable Gaussian blur over reflected
    /// borders, Sobel, direction bins, non-maximum suppression, percentile thresholds, hysteresis by
    /// repeated 8-neighbour dilation until nothing changes (a read every round).
    public static func canny(n: Int = 384, sigma: Double = 1.5, loQ: Double = 80, hiQ: Double = 95) throws -> [String: Double] {
        let ij = Tensor<Double>.indices([n, n])
        let i = ij[0], j = ij[1]
        let N = Double(n)
        var img = Tensor<Double>(((i - N / 2).pow(2) + (j - N / 3).pow(2)) .< (N / 5) * (N / 5)) * 1.0
        img = img + Tensor<Double>((i - 0.5 * j - N / 4).abs() .< N / 20) * 0.6
        img = img + Tensor<Double>((i .> 0.7 * N) .& (j .> 0.6 * N)) * 0.8
        img = img + 0.15 * Tensor<Double>.uniform([n, n], seed: 101, in: -1...1)
        let r = Int(3 * sigma)
        let t = Tensor<Double>.arange(Double(-r), Double(r + 1))
        var g = (-t * t / (2 * sigma * sigma)).exp()
        g = g / g.sum()
        let P = img.padded([(r, r)], mode: .reflect)
        var tmp = g[0] * P[0..<n, .all]
        for k in 1..<(2 * r + 1) { tmp = tmp + g[k] * P[k..<(k + n), .all] }
        var B = g[0] * tmp[.all, 0..<n]
        for k in 1..<(2 * r + 1) { B = B + g[k] * tmp[.all, k..<(k + n)] }
        let Q = B.padded([(1, 1)], mode: .edge)
        let gx = (Q[0..<n, 2...] + 2 * Q[1..<(n + 1), 2...] + Q[2..., 2...]) - (Q[0..<n, ..<n] + 2 * Q[1..<(n + 1), ..<n] + Q[2..., ..<n])
        let gy = (Q[2..., 0..<n] + 2 * Q[2..., 1..<(n + 1)] + Q[2..., 2...]) - (Q[..<n, 0..<n] + 2 * Q[..<n, 1..<(n + 1)] + Q[..<n, 2...])
        let mag = (gx * gx + gy * gy).sqrt()
        let ang = Tensor.atan2(gy, gx).degrees().mod(180.0)
        let d0 = (ang .< 22.5) .| (ang .>= 157.5)
        let d45 = (ang .>= 22.5) .& (ang .< 67.5)
        let d90 = (ang .>= 67.5) .& (ang .< 112.5)
        let M = mag.padded([(1, 1)], mode: .constant(0))
        let n1 = select([d0, d45, d90], [M[1..<(n + 1), ..<n], M[..<n, ..<n], M[..<n, 1..<(n + 1)]], otherwise: M[..<n, 2...])
        let n2 = select([d0, d45, d90], [M[1..<(n + 1), 2...], M[2..., 2...], M[2..., 1..<(n + 1)]], otherwise: M[2..., ..<n])
        let nms = select((mag .>= n1) .& (mag .>= n2), mag, 0.0)
        let cand = nms[nms .> 0]
        let q = try cand.percentile([loQ, hiQ]).scalars
        let lo = q[0], hi = q[1]
        let strong = nms .>= hi
        let weak = nms .>= lo
        var edges = strong
        var count = Int(try edges.sum().item())
        var rounds = 0
        while true {
            let E = edges.padded([(1, 1)], mode: .constant(false))
            let dil = (E[1..<(n + 1), 1..<(n + 1)] .| E[..<n, 1..<(n + 1)] .| E[2..., 1..<(n + 1)] .| E[1..<(n + 1), ..<n] .| E[1..<(n + 1), 2...]
                       .| E[..<n, ..<n] .| E[..<n, 2...] .| E[2..., ..<n] .| E[2..., 2...])
            let new = dil .& weak
            rounds += 1
            let c = Int(try new.sum().item())
            if c == count { break }
            (edges, count) = (new, c)
        }
        return ["edges": Double(count), "strong": Double(try strong.sum().item()), "weak": Double(try weak.sum().item()),
                "rounds": Double(rounds), "lo": lo, "hi": hi, "mag_mean": try mag.mean().item(),
                "edge_mag_mean": try mag[edges].mean().item()]
    }

    /// Lennard-Jones fluid, m**3 particles in a periodic box: all pairs by broadcasting
    /// [n,1,3] - [1,n,3], minimum image by round, a cutoff mask, velocity Verlet.
    public static func lennardJones(m: Int = 7, steps: Int = 10, dt: Double = 0.002, density: Double = 0.8,
                                    rc: Double = 2.5) throws -> [String: Double] {
        let n = m * m * m
        let L = Foundation.pow(Double(n) / density, 1.0 / 3)
        let a = L / Double(m)
        let ar = Tensor<Double>.arange(Double(m))
        let (gi, gj, gk) = meshgrid(ar, ar, ar, indexing: .ij)
        var pos = Tensor.stack([gi.flattened(), gj.flattened(), gk.flattened()], axis: 1) * a
            + 0.1 * a * Tensor<Double>.uniform([n, 3], seed: 111, in: -1...1)
        var vel = Tensor<Double>.uniform([n, 3], seed: 112, in: -1...1)
        vel = vel - vel.mean(axis: 0)
        let rc2 = rc * rc
        let ecut = 4 * (Foundation.pow(rc2, -6) - Foundation.pow(rc2, -3))

        func forces(_ pos: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>, Tensor<Double>, Tensor<Int64>) {
            var d = pos[.all, .newAxis, .all] - pos[.newAxis, .all, .all]
            d = d - L * (d / L).round()
            let r2 = (d * d).sum(axis: 2)
            let mask = (r2 .< rc2) .& (r2 .> 0)
            let r2s = select(mask, r2, 1.0)
            let inv6 = (1 / r2s).pow(3)
            let e = select(mask, 4 * (inv6 * inv6 - inv6) - ecut, 0.0)
            let fmag = select(mask, 24 * (2 * inv6 * inv6 - inv6) / r2s, 0.0)
            let F = (fmag[.all, .all, .newAxis] * d).sum(axis: 1)
            return (F, 0.5 * e.sum(), 0.5 * (fmag * r2).sum(), mask.sum() / 2)
        }

        var (F, pe, vir, pairs) = forces(pos)
        for _ in 0..<steps {
            vel = vel + 0.5 * dt * F
            pos = (pos + dt * vel).mod(L)
            (F, pe, vir, pairs) = forces(pos)
            vel = vel + 0.5 * dt * F
        }
        let ke = try (0.5 * (vel * vel).sum()).item()
        let T = 2 * ke / Double(3 * n)
        let peV = try pe.item(), virV = try vir.item()
        return ["pe": peV, "ke": ke, "total": peV + ke, "pressure": (Double(n) * T + virV / 3) / (L * L * L),
                "pairs": Double(try pairs.item()), "momentum": try vel.sum(axis: 0).abs().max().item(),
                "f_mean": try (F * F).sum(axis: 1).sqrt().mean().item(), "x_mean": try pos[.all, 0].mean().item()]
    }

    /// A synthetic series: rolling mean and std by cumulative sums, z-score anomalies, the
    /// autocorrelation of its increments by FFT, Spearman rank correlation, drawdown by a running max.
    public static func timeseries(n: Int = 200000, w: Int = 50, maxlag: Int = 20) throws -> [String: Double] {
        let t = Tensor<Double>.arange(Double(n))
        var x = 0.02 * (try Tensor<Double>.uniform([n], seed: 81, in: -1...1).cumsum()) + (2 * Double.pi * t / 365.0).sin()
            + 0.5 * Tensor<Double>.uniform([n], seed: 82, in: -1...1)
        x = x + 5.0 * Tensor<Double>(Tensor<Double>.uniform([n], seed: 83) .> 0.999)
        let c = try Tensor.concatenate([Tensor<Double>([0.0]), x]).cumsum()
        let c2 = try Tensor.concatenate([Tensor<Double>([0.0]), x * x]).cumsum()
        let rmean = (c[w...] - c[..<(-w)]) / Double(w)
        let rvar = (c2[w...] - c2[..<(-w)]) / Double(w) - rmean * rmean
        let rstd = Tensor.maximum(rvar, Tensor(1e-12)).sqrt()     // Tensor.maximum takes no scalar (free max(x, 1e-12) does)
        let z = (x[(w - 1)...] - rmean) / rstd
        let r = x.diff()
        let rc = r - r.mean()
        let nfft = 1 << (Int.bitWidth - (2 * rc.count - 1).leadingZeroBitCount)
        let spec = try rc.rfft(n: nfft)
        var acf = try (spec * spec.conj()).irfft(n: nfft)[..<(maxlag + 1)]
        acf = acf / acf[0]
        let a = r[(w - 1)...].abs()
        let b = rstd[1...]
        let ra = Tensor<Double>(try a.argsort().argsort())
        let rb = Tensor<Double>(try b.argsort().argsort())
        let spearman = try ra.corrcoef(rb)[0, 1].item()
        let dd = try (try x.cummax() - x).max().item()
        let q = try r.percentile([1, 50, 99]).scalars
        return ["anomalies": Double(try (z.abs() .> 3).sum().item()), "z_max": try z.abs().max().item(),
                "rstd_mean": try rstd.mean().item(), "acf1": try acf[1].item(), "acf2": try acf[2].item(),
                "acf_sum": try acf[1...].sum().item(), "spearman": spearman, "drawdown": dd,
                "q1": q[0], "q50": q[1], "q99": q[2]]
    }

    /// All-pairs shortest paths of a random directed graph by Floyd-Warshall, each k one
    /// broadcast minimum of the matrix with a column plus a row.
    public static func floyd(n: Int = 400, p: Double = 0.02) throws -> [String: Double] {
        let w = Tensor<Double>.uniform([n, n], seed: 91, in: 1.0...10.0)
        var D = select(Tensor<Double>.uniform([n, n], seed: 92) .< p, w, Double.infinity)
        // NumPy: D[np.arange(n), np.arange(n)] = 0. `D[idx, idx] = Tensor(0.0)` compiles but stops at run time
        // (more than one integer tensor in a subscript; in a release build without the message): a select instead.
        D = select(Tensor<Double>.eye(n) .== 1, 0.0, D)
        for k in 0..<n {
            D = Tensor.minimum(D, D[.all, k..<(k + 1)] + D[k..<(k + 1), .all])
        }
        let finite = D.isFinite()
        let Df = select(finite, D, 0.0)
        let ecc = select(finite, D, -1.0).max(axis: 1)
        let Dfin = D[finite]
        return ["reachable": Double(try finite.sum().item()), "total": try Df.sum().item(), "diameter": try Dfin.max().item(),
                "mean": try Dfin.mean().item(), "radius": try ecc.min().item(), "center": Double(try ecc.argmin().item()),
                "median": try Dfin.median().item()]
    }

    // Extra programs (beyond the six), written after the six agreed with NumPy.

    /// Newton's method for z**3 = 1 from a grid of complex starting points: basins, step counts.
    public static func newton(n: Int = 300, iters: Int = 40) throws -> [String: Double] {
        let x = Tensor<Double>.linspace(-2.0, 2.0, count: n)
        let (X, Y) = meshgrid(x, x)
        var z = ComplexTensor(X) + Complex<Double>(0, 1) * ComplexTensor(Y)
        var count = Tensor<Double>.zeros([n, n])
        for _ in 0..<iters {
            // NumPy: (z**3 - 1) / (3 * z**2). ComplexTensor has no pow or square: products instead
            // (NumPy's power does z * (z * z) and z * z for the exponents 3 and 2).
            let dz = (z * (z * z) - 1.0) / (3.0 * (z * z))
            z = z - dz
            count += Tensor<Double>(dz.abs() .> 1e-8)
        }
        let roots = (Complex<Double>(0, 2 * Double.pi) * ComplexTensor(Tensor<Double>.arange(3.0)) / 3.0).exp()
        let dist = (z[.newAxis, .all, .all] - roots[.all, .newAxis, .newAxis]).abs()
        let basin = dist.argmin(axis: 0)
        return ["basin0": Double(try (basin .== 0).sum().item()), "basin1": Double(try (basin .== 1).sum().item()),
                "basin2": Double(try (basin .== 2).sum().item()), "mean_count": try count.mean().item(),
                "max_err": try dist.min(axis: 0).max().item(), "re_sum": try z.real.sum().item(),
                "im_abs_sum": try z.imaginary.abs().sum().item()]
    }

    /// A one-hidden-layer tanh network fitted to a smooth target by full-batch gradient descent:
    /// forward and backward passes by matmul, the loss read every 10 epochs.
    public static func mlp(n: Int = 2000, d: Int = 8, h: Int = 64, epochs: Int = 100, lr: Double = 0.1) throws -> [String: Double] {
        let X = Tensor<Double>.uniform([n, d], seed: 121, in: -1...1)
        let y = ((3 * X[.all, 0]).sin() * X[.all, 1] + 0.5 * X[.all, 2].pow(2) + 0.1 * Tensor<Double>.uniform([n], seed: 124, in: -1...1))[.all, .newAxis]
        var W1 = Tensor<Double>.uniform([d, h], seed: 122, in: -1...1) * (1.0 / Double(d)).squareRoot()
        var b1 = Tensor<Double>.zeros([h])
        var W2 = Tensor<Double>.uniform([h, 1], seed: 123, in: -1...1) * (1.0 / Double(h)).squareRoot()
        var b2 = Tensor<Double>.zeros([1])
        var losses: [Double] = []
        for e in 0..<epochs {
            let A = (X.matmul(W1) + b1).tanh()
            let out = A.matmul(W2) + b2
            let err = out - y
            if e % 10 == 0 { losses.append(try err.pow(2).mean().item()) }
            let g = 2 * err / Double(n)
            let gW2 = A.transposed.matmul(g)
            let gb2 = g.sum(axis: 0)
            let gZ = g.matmul(W2.transposed) * (1 - A * A)
            let gW1 = X.transposed.matmul(gZ)
            let gb1 = gZ.sum(axis: 0)
            W1 -= lr * gW1
            b1 -= lr * gb1
            W2 -= lr * gW2
            b2 -= lr * gb2
        }
        let final = try ((X.matmul(W1) + b1).tanh().matmul(W2) + b2 - y).pow(2).mean().item()
        return ["loss0": losses[0], "loss_mid": losses[losses.count / 2], "loss": final,
                "w1_norm": try W1.norm().item(), "w2_sum": try W2.sum().item(), "b1_mean": try b1.mean().item()]
    }

    /// 0/1 knapsack by dynamic programming, one whole-row update per item (a shifted maximum).
    public static func knapsack(items: Int = 400, cap: Int = 50000) throws -> [String: Double] {
        let w = Tensor<Int64>(Tensor<Double>.uniform([items], seed: 131) * 400 + 1)
        let v = Tensor<Double>.uniform([items], seed: 132, in: 1.0...100.0)
        var best = Tensor<Double>.zeros([cap + 1])
        let ws = try w.scalars
        for i in 0..<items {
            let wi = Int(ws[i])
            let cand = best[..<(cap + 1 - wi)] + v[i]
            best[wi...] = Tensor.maximum(best[wi...], cand)
        }
        return ["best": try best[cap].item(), "mean": try best.mean().item(), "half": try best[cap / 2].item(),
                "distinct": Double(try best.unique().count)]
    }

    /// Viscous Burgers on a periodic line, pseudo-spectral: derivative by rfft/irfft, Euler step of
    /// the nonlinear term with an exact integrating factor for the viscosity (three transforms a step).
    public static func spectralBurgers(n: Int = 2048, steps: Int = 300, dt: Double = 5e-4, nu: Double = 0.05) throws -> [String: Double] {
        let x = 2 * Double.pi * Tensor<Double>.arange(Double(n)) / Double(n)
        var u = x.sin() + 0.5 * (2 * x).cos() + 0.1 * Tensor<Double>.uniform([n], seed: 141, in: -1...1)
        let k = Tensor<Double>.rfftfreq(n, d: 1.0 / Double(n))
        let decay = (-nu * k * k * dt).exp()
        let energy0 = try (u * u).mean().item()
        for _ in 0..<steps {
            let uh = try u.rfft()
            let ux = try (Complex<Double>(0, 1) * ComplexTensor(k) * uh).irfft(n: n)
            u = try ((uh + dt * (try (-u * ux).rfft())) * ComplexTensor(decay)).irfft(n: n)
        }
        return ["energy0": energy0, "energy": try (u * u).mean().item(), "u_max": try u.max().item(), "u_min": try u.min().item(),
                "grad_max": try u.diff().abs().max().item() * Double(n) / (2 * Double.pi), "mean": try u.mean().item()]
    }

    /// Rejection sampling from p(x) ~ exp(-x^2/2) (1 + sin(3x)^2) on [-4, 4], batch by batch,
    /// with running mean and variance combined by Chan's formula and a histogram of all accepted.
    public static func rejection(batches: Int = 40, m: Int = 50000) throws -> [String: Double] {
        var count = 0, mean = 0.0, m2 = 0.0
        var hist = Tensor<Int64>.zeros([20])
        var tried = 0
        for b in 0..<batches {
            let x = Tensor<Double>.uniform([m], seed: UInt64(2 * b + 500), in: -4.0...4.0)
            let u = Tensor<Double>.uniform([m], seed: UInt64(2 * b + 501))
            // 3.5 s to type-check without a type annotation (0.4 s with `let f: Tensor<Double>`)
            let f = (-x * x / 2).exp() * (1 + (3 * x).sin().pow(2)) / 2
            let acc = x[u .< f]
            let nb = acc.count
            let mb = try acc.mean().item()
            let m2b = try (acc - mb).pow(2).sum().item()
            let delta = mb - mean
            let tot = count + nb
            mean += delta * Double(nb) / Double(tot)
            m2 += m2b + delta * delta * Double(count) * Double(nb) / Double(tot)
            count = tot
            tried += m
            hist = hist + (try acc.histogram(bins: 20, range: -4.0...4.0)).counts
        }
        return ["accepted": Double(count), "rate": Double(count) / Double(tried), "mean": mean, "var": m2 / Double(count - 1),
                "hist_peak": Double(try hist.argmax().item()), "hist_max": Double(try hist.max().item()),
                "hist_edge": Double(try (hist[0] + hist[19]).item())]
    }
}
