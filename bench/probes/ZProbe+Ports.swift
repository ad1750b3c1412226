// Five more NumPy programs ported line by line from the README alone (twentieth session), to
// find what the default path does badly on programs nobody tuned for: PageRank by power
// iteration with a convergence read every iteration, a linear regression by the normal
// equations on standardised features, a 1-D wave equation with periodic rolls and an energy read
// every 100 steps, rank statistics of samples (sort, argsort, searchSorted, percentiles, a
// histogram's CDF), and an SIR epidemic integrated by RK4 on a few small vectors (per-op
// overhead). Their NumPy versions are in probe.py; register them with examples.txt.
import Tandem

extension ZProbe {
    /// PageRank of `n` pages: links where a uniform draw exceeds 0.95, columns normalised (a page
    /// without links links everywhere), r = d M r + (1 - d)/n until the L1 change is below tol.
    public static func pagerank(n: Int, damping: Double, tol: Double) throws -> [String: Double] {
        let links = Tensor<Double>(Tensor<Double>.uniform([n, n], seed: 90) .> 0.95)
        let outDegree = links.sum(axis: 0)
        let m = `where`(outDegree .== 0, Tensor(1.0 / Double(n)), links / outDegree)
        var r = Tensor<Double>.full([n], 1.0 / Double(n))
        var iterations = 0
        var change = Double.infinity
        while change > tol && iterations < 1000 {
            let next = damping * m.matmul(r) + (1 - damping) / Double(n)
            change = try (next - r).abs().sum().item()
            r = next
            iterations += 1
        }
        return ["iterations": Double(iterations), "r_max": try r.max().item(), "r_sum": try r.sum().item(),
                "top": Double(try r.argmax().item())]
    }

    /// A linear regression of `n` samples of `d` features: standardised columns, the normal
    /// equations solved, R^2 and the residuals' 90th percentile; the same fit by lstsq.
    public static func linreg(n: Int, d: Int) throws -> [String: Double] {
        let x = Tensor<Double>.uniform([n, d], seed: 91, in: -2...2) * Tensor<Double>.arange(1, Double(d + 1))
        let w = Tensor<Double>.linspace(-1, 1, count: d)
        let y = x.matmul(w) + 0.5 + 0.1 * Tensor<Double>.normal([n], seed: 92)
        let mu = x.mean(axis: 0), sigma = x.std(axis: 0)
        let z = (x - mu) / sigma
        let a = Tensor.concatenate([Tensor<Double>.ones([n, 1]), z], axis: 1)
        let coef = try a.transposed.matmul(a).solve(a.transposed.matmul(y))
        let predicted = a.matmul(coef)
        let residual = y - predicted
        let r2 = 1 - (residual * residual).sum() / ((y - y.mean()) * (y - y.mean())).sum()
        let viaLstsq = try a.leastSquares(y)
        return ["intercept": try coef[0].item(), "coef_last": try coef[d].item(), "r2": try r2.item(),
                "p90": try residual.abs().percentile(90).item(), "lstsq_diff": try (viaLstsq - coef).abs().max().item()]
    }

    /// The 1-D wave equation u_tt = c^2 u_xx on a periodic grid by leapfrog, a Gaussian pulse at
    /// rest to start; the discrete energy read every 100 steps.
    public static func wave(n: Int, steps: Int) throws -> [String: Double] {
        let dx = 1.0 / Double(n), c = 1.0, dt = 0.5 * dx / c
        let x = Tensor<Double>.arange(0, Double(n)) * dx
        var u = (-((x - 0.5) * (x - 0.5)) / 0.002).exp()
        var previous = u
        let r2 = (c * dt / dx) * (c * dt / dx)
        var energies: [Double] = []
        for step in 1...steps {
            let next = 2 * u - previous + r2 * (u.rolled(by: 1) - 2 * u + u.rolled(by: -1))
            previous = u
            u = next
            if step % 100 == 0 {
                let velocity = (u - previous) / dt
                let gradient = (u.rolled(by: -1) - u) / dx
                energies.append(try (0.5 * (velocity * velocity + c * c * gradient * gradient)).sum().item() * dx)
            }
        }
        return ["energy_first": energies.first ?? 0, "energy_last": energies.last ?? 0, "u_max": try u.max().item(),
                "u_sum": try u.sum().item()]
    }

    /// Rank statistics of `n` normal samples: sorted, ranks by argsort of argsort, Spearman's
    /// correlation with a noisy monotone function of them, quantiles by searchSorted into the
    /// sorted samples, a histogram's cumulative distribution and the median.
    public static func ranks(n: Int) throws -> [String: Double] {
        let a = Tensor<Double>.normal([n], seed: 93)
        let b = (a * 0.5).exp() + 0.3 * Tensor<Double>.normal([n], seed: 94)
        let rankA = Tensor<Double>(try a.argsort().argsort()), rankB = Tensor<Double>(try b.argsort().argsort())
        let ra = rankA - rankA.mean(), rb = rankB - rankB.mean()
        let spearman = (ra * rb).sum() / ((ra * ra).sum() * (rb * rb).sum()).sqrt()
        let sortedA = try a.sorted()
        let below = try sortedA.searchSorted(Tensor<Double>([-1, 0, 1]))
        let (counts, _) = try a.histogram(bins: 20, range: -4...4)
        let cdf = try counts.cumsum()
        return ["spearman": try spearman.item(), "below_0": Double(try below[1].item()), "below_1": Double(try below[2].item()),
                "median": try a.median().item(), "cdf_mid": Double(try cdf[9].item()), "q95": try b.percentile(95).item()]
    }

    /// An SIR epidemic in `groups` age groups with a contact matrix, integrated by classical RK4
    /// for `steps` steps of dt: a few small vectors, many operations a step.
    public static func sir(groups: Int, steps: Int) throws -> [String: Double] {
        let contact = Tensor<Double>.uniform([groups, groups], seed: 95, in: 0.5...1.5) / Double(groups)
        let beta = 0.3, gamma = 0.1, dt = 0.1
        var s = Tensor<Double>.full([groups], 0.99), i = Tensor<Double>.full([groups], 0.01), r = Tensor<Double>.zeros([groups])
        func rates(_ s: Tensor<Double>, _ i: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>, Tensor<Double>) {
            let force = beta * contact.matmul(i)
            let infection = force * s
            let recovery = gamma * i
            return (-infection, infection - recovery, recovery)
        }
        for _ in 0..<steps {
            let (ds1, di1, dr1) = rates(s, i)
            let (ds2, di2, dr2) = rates(s + 0.5 * dt * ds1, i + 0.5 * dt * di1)
            let (ds3, di3, dr3) = rates(s + 0.5 * dt * ds2, i + 0.5 * dt * di2)
            let (ds4, di4, dr4) = rates(s + dt * ds3, i + dt * di3)
            s = s + dt / 6 * (ds1 + 2 * ds2 + 2 * ds3 + ds4)
            i = i + dt / 6 * (di1 + 2 * di2 + 2 * di3 + di4)
            r = r + dt / 6 * (dr1 + 2 * dr2 + 2 * dr3 + dr4)
        }
        return ["s_sum": try s.sum().item(), "i_max": try i.max().item(), "r_sum": try r.sum().item()]
    }

    /// Otsu's threshold of a blurred noisy image: a separable 5-tap blur by slices, a 64-bin
    /// histogram, the between-class variance from cumulative sums, its argmax, and the foreground
    /// fraction at that threshold.
    public static func otsu(h: Int, w: Int) throws -> [String: Double] {
        let y = Tensor<Double>.arange(0, Double(h)).reshaped([h, 1]), x = Tensor<Double>.arange(0, Double(w)).reshaped([1, w])
        let disc = Tensor<Double>(((x - Double(w) / 2) * (x - Double(w) / 2) + (y - Double(h) / 2) * (y - Double(h) / 2)) .< Double(h * h) / 9)
        let image = 0.3 + 0.4 * disc + 0.1 * Tensor<Double>.normal([h, w], seed: 96)
        let k = [1.0, 4.0, 6.0, 4.0, 1.0].map { $0 / 16 }
        let padded = image.padded([(0, 0), (2, 2)], mode: .edge)
        var rows = k[0] * padded[.all, 0..<w]
        for t in 1..<5 { rows = rows + k[t] * padded[.all, t..<(t + w)] }
        let padded2 = rows.padded([(2, 2), (0, 0)], mode: .edge)
        var blurred = k[0] * padded2[0..<h, .all]
        for t in 1..<5 { blurred = blurred + k[t] * padded2[t..<(t + h), .all] }
        let (counts, edges) = try blurred.histogram(bins: 64, range: 0...1)
        let p = Tensor<Double>(counts) / Double(h * w)
        let centres = (edges[0..<64] + edges[1..<65]) / 2
        let omega = try p.cumsum(), mu = try (p * centres).cumsum()
        let muT = mu[63]
        let between = (muT * omega - mu) * (muT * omega - mu) / (omega * (1 - omega) + 1e-12)
        let best = Int(try between.argmax().item())
        let threshold = try edges[best + 1].item()
        return ["threshold": threshold, "foreground": try Tensor<Double>(blurred .> threshold).mean().item(),
                "blur_sum": try blurred.sum().item()]
    }

    /// Monte Carlo estimates of E[exp(-|Z|)] for normal Z in `batches` batches of `n`, each
    /// batch's mean read, then the mean of the batch means and their standard error.
    public static func montecarlo(batches: Int, n: Int) throws -> [String: Double] {
        var means: [Double] = []
        for b in 0..<batches {
            let z = Tensor<Double>.normal([n], seed: UInt64(1000 + b))
            let f = (-z.abs()).exp()
            let inside = Tensor<Double>(z.abs() .< 1)
            means.append(try (f * inside + (1 - inside) * f).mean().item())
        }
        let m = Tensor<Double>(means)
        return ["mean": try m.mean().item(), "stderr": try (m.std(ddof: 1) / Double(batches).squareRoot()).item()]
    }

    /// 1-D advection u_t + a u_x = 0 on a periodic grid by a second-order upwind scheme with the
    /// minmod limiter (NumPy's `np.where`, `np.minimum`, `np.abs`, `np.sign`, `np.pad(mode="wrap")`).
    public static func limiter(n: Int, steps: Int) throws -> [String: Double] {
        let dx = 1.0 / Double(n), a = 1.0, dt = 0.4 * dx / a
        let x = (Tensor<Double>.arange(0, Double(n)) + 0.5) * dx
        var u = `where`((x - 0.3).abs() .< 0.1, Tensor(1.0), Tensor(0.0)) + (-((x - 0.7) * (x - 0.7)) / 0.002).exp()
        for _ in 0..<steps {
            let up = u.padded([(2, 2)], mode: .wrap)
            let dl = up[1..<(n + 3)] - up[0..<(n + 2)]        // u_i - u_{i-1}, for i = -1 ... n
            let dr = up[2..<(n + 4)] - up[1..<(n + 3)]        // u_{i+1} - u_i
            let slope = `where`(dl * dr .> 0, dl.sign() * Tensor.minimum(dl.abs(), dr.abs()), Tensor(0.0))
            let face = up[1..<(n + 3)] + 0.5 * (1 - a * dt / dx) * slope   // u at i + 1/2 from the left
            let flux = a * face
            u = u - dt / dx * (flux[1..<(n + 1)] - flux[0..<n])
        }
        return ["u_sum": try u.sum().item() * dx, "u_max": try u.max().item(), "u_min": try u.min().item()]
    }

    /// A 1-D particle-in-cell step, `steps` times: charges deposited on a grid by bincount with
    /// weights (np.add.at's idiom), the field from a cumulative sum, pushed back to the particles
    /// by gathering each one's cell, positions wrapped with floor division's remainder.
    public static func pic(particles: Int, cells: Int, steps: Int) throws -> [String: Double] {
        var x = Tensor<Double>.uniform([particles], seed: 97, in: 0...1)
        var v = 0.01 * Tensor<Double>.normal([particles], seed: 98)
        let dt = 0.05
        for _ in 0..<steps {
            let cell = Tensor<Int64>(x * Double(cells)).clip(0, Int64(cells - 1))
            let rho = try cell.bincount(weights: Tensor<Double>.ones([particles]), minLength: cells) / Double(particles) * Double(cells) - 1
            let e = try rho.cumsum() / Double(cells)
            let field = e - e.mean()
            v = v + dt * field.take(cell)
            x = (x + dt * v).mod(1.0)
        }
        return ["v_rms": try (v * v).mean().sqrt().item(), "x_mean": try x.mean().item()]
    }

    /// The logistic map x <- r x (1 - x) for `rs` growth rates at once, `steps` iterations, the
    /// last 64 values of each rate kept and their spread measured.
    public static func logistic(rs: Int, steps: Int) throws -> [String: Double] {
        let r = Tensor<Double>.linspace(2.8, 4.0, count: rs)
        var x = Tensor<Double>.full([rs], 0.5)
        for _ in 0..<(steps - 64) { x = r * x * (1 - x) }
        var lo = x, hi = x
        for _ in 0..<64 {
            x = r * x * (1 - x)
            lo = Tensor.minimum(lo, x)
            hi = Tensor.maximum(hi, x)
        }
        return ["spread_sum": try (hi - lo).sum().item(), "x_sum": try x.sum().item()]
    }

    /// 2-D diffusion on an n x n grid with a hot disc held at 1 by a mask write every step
    /// (`u[mask] = 1`, NumPy's idiom), the edges held at 0, the mean read every 50 steps.
    public static func maskdiffusion(n: Int, steps: Int) throws -> [String: Double] {
        let y = Tensor<Double>.arange(0, Double(n)).reshaped([n, 1]), x = Tensor<Double>.arange(0, Double(n)).reshaped([1, n])
        let mask = ((x - Double(n) / 3) * (x - Double(n) / 3) + (y - Double(n) / 2) * (y - Double(n) / 2)) .< Double(n * n) / 64
        var u = Tensor<Double>.zeros([n, n])
        var means: [Double] = []
        for step in 1...steps {
            u[mask] = Tensor(1.0)
            let inner = 0.25 * (u[0..<(n - 2), 1..<(n - 1)] + u[2..<n, 1..<(n - 1)] + u[1..<(n - 1), 0..<(n - 2)] + u[1..<(n - 1), 2..<n])
            u[1..<(n - 1), 1..<(n - 1)] = inner
            if step % 50 == 0 { means.append(try u.mean().item()) }
        }
        return ["mean_last": means.last ?? 0, "mean_first": means.first ?? 0, "u_sum": try u.sum().item()]
    }
}
