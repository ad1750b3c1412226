import Tandem

// Programs ported from the README and the public doc comments alone by a held-out tester:
// registered as `h3_*` examples by examples3.txt; NumPy versions in heldout3.py.
public enum ZHeldOut3 {
    /// Gray-Scott reaction-diffusion on a periodic square, five-point Laplacian by `rolled`.
    public static func grayScott(n: Int = 128, steps: Int = 200, du: Double = 0.16, dv: Double = 0.08,
                                 f: Double = 0.04, k: Double = 0.06) throws -> [String: Double] {
        var U = Tensor<Double>.ones([n, n])
        var V = Tensor<Double>.zeros([n, n])
        let c = n / 2, r = n / 8
        U[(c - r)..<(c + r), (c - r)..<(c + r)] = Tensor(0.5)
        V[(c - r)..<(c + r), (c - r)..<(c + r)] = Tensor(0.25)
        U += 0.05 * Tensor<Double>.uniform([n, n], seed: 21)
        V += 0.05 * Tensor<Double>.uniform([n, n], seed: 22)

        func lap(_ Z: Tensor<Double>) -> Tensor<Double> {
            Z.rolled(by: 1, axis: 0) + Z.rolled(by: -1, axis: 0) + Z.rolled(by: 1, axis: 1) + Z.rolled(by: -1, axis: 1) - 4 * Z
        }

        for _ in 0..<steps {
            let uvv = U * V * V
            (U, V) = (U + du * lap(U) - uvv + f * (1 - U), V + dv * lap(V) + uvv - (f + k) * V)
        }
        return ["u_mean": try U.mean().item(), "v_mean": try V.mean().item(), "v_max": try V.max().item(),
                "v_std": try V.std().item(), "pattern": Double(try (V .> 0.1).sum().item())]
    }

    /// Conjugate gradients for -lap(u) = f on the unit square (Dirichlet), matrix-free stencil.
    public static func cgPoisson(n: Int = 128, tol: Double = 1e-8, maxiter: Int = 2000) throws -> [String: Double] {
        let h = 1.0 / Double(n + 1)
        let x = Tensor<Double>.linspace(h, 1 - h, count: n)
        let (X, Y) = meshgrid(x, x, indexing: .ij)
        let b = h * h * ((Double.pi * X).sin() * (2 * Double.pi * Y).sin() + 0.5 * Tensor<Double>.uniform([n, n], seed: 31))

        func A(_ p: Tensor<Double>) -> Tensor<Double> {
            var q = 4 * p
            q[1..., .all] -= p[..<(-1), .all]
            q[..<(-1), .all] -= p[1..., .all]
            q[.all, 1...] -= p[.all, ..<(-1)]
            q[.all, ..<(-1)] -= p[.all, 1...]
            return q
        }

        var u = Tensor<Double>.zeros([n, n])
        var r = b
        var p = r
        var rs = try (r * r).sum().item()
        let bnorm = rs.squareRoot()
        var it = 0
        var rsNew = rs
        while it < maxiter {
            let Ap = A(p)
            let alpha = rs / (try (p * Ap).sum().item())
            u += alpha * p
            r -= alpha * Ap
            rsNew = try (r * r).sum().item()
            it += 1
            if rsNew.squareRoot() < tol * bnorm { break }
            p = r + (rsNew / rs) * p
            rs = rsNew
        }
        let trueRes = try (b - A(u)).norm().item() / bnorm
        return ["iterations": Double(it), "residual": rsNew.squareRoot() / bnorm, "u_sum": try u.sum().item(),
                "u_max": try u.max().item(), "true_residual": trueRes]
    }

    /// 2-D Ising model, Metropolis with checkerboard half-sweeps, periodic neighbours by `rolled`.
    public static func ising(n: Int = 128, sweeps: Int = 100, beta: Double = 0.44) throws -> [String: Double] {
        var spins = select(Tensor<Double>.uniform([n, n], seed: 41) .< 0.5, Tensor<Int32>(-1), Tensor<Int32>(1))
        let (i, j) = meshgrid(Tensor<Int32>.arange(Int32(n)), Tensor<Int32>.arange(Int32(n)), indexing: .ij)
        let black = (i + j) % 2 .== 0
        var mags: [Double] = []
        for s in 0..<sweeps {
            for (half, color) in [black, .!black].enumerated() {
                let nb = spins.rolled(by: 1, axis: 0) + spins.rolled(by: -1, axis: 0) + spins.rolled(by: 1, axis: 1) + spins.rolled(by: -1, axis: 1)
                let dE = 2 * spins * nb
                let u = Tensor<Double>.uniform([n, n], seed: UInt64(1000 + 2 * s + half))
                let accept = (dE .<= 0) .| (u .< (-beta * Tensor<Double>(dE)).exp())
                spins = select(color .& accept, -spins, spins)
            }
            if s % 10 == 9 {
                mags.append(abs(try spins.mean().item()))
            }
        }
        let bonds = spins * (spins.rolled(by: 1, axis: 0) + spins.rolled(by: 1, axis: 1))
        return ["m": abs(try spins.mean().item()), "mean_mag": mags.reduce(0, +) / Double(mags.count),
                "energy": Double(-(try bonds.sum().item())) / Double(n * n), "up": Double(try (spins .== 1).sum().item())]
    }

    /// Bootstrap of a mean, a median and a correlation: resampling by integer gathers.
    public static func bootstrap(n: Int = 2000, B: Int = 500) throws -> [String: Double] {
        let u1 = Tensor<Double>.uniform([n], seed: 51)
        let u2 = Tensor<Double>.uniform([n], seed: 52)
        let rad = (-2 * (1 - u1).log()).sqrt()
        let x = rad * (2 * Double.pi * u2).cos()
        let y = 0.6 * x + 0.8 * rad * (2 * Double.pi * u2).sin() + 0.1 * x.pow(2)
        let corr0 = try Tensor.stack([x, y]).corrcoef()[0, 1].item()
        let idx = Tensor<Int64>(Tensor<Double>.uniform([B, n], seed: 53) * Double(n))
        let xs = x[idx]
        let ys = y[idx]
        let means = xs.mean(axis: 1)
        let xm = xs - means[.all, .newAxis]
        let ym = ys - ys.mean(axis: 1, keepDims: true)
        let corr = (xm * ym).sum(axis: 1) / (xm.pow(2).sum(axis: 1) * ym.pow(2).sum(axis: 1)).sqrt()
        let med = try xs.median(axis: 1)
        let lo = try corr.percentile(2.5).item(), hi = try corr.percentile(97.5).item()
        let srt = try corr.sorted()
        let running = try means.cumsum() / Tensor<Double>.arange(1, Double(B + 1))
        let corrMean = try corr.mean().item()
        return ["mean_se": try means.std(ddof: 1).item(), "median_se": try med.std(ddof: 1).item(),
                "corr0": corr0, "corr_mean": corrMean, "corr_lo": lo, "corr_hi": hi,
                "corr_q10": try srt[B / 10].item(), "bias": corrMean - corr0,
                "running_dev": try (running[(B / 2)...] - running[-1]).abs().max().item()]
    }

    /// PCA by eigh of the covariance, then 1-NN and k-NN classification in the projected space.
    public static func pcaKnn(n: Int = 2000, m: Int = 500, d: Int = 16, classes: Int = 3, comps: Int = 2, kn: Int = 5) throws -> [String: Double] {
        let centers = Tensor<Double>.uniform([classes, d], seed: 61, in: -2.0...2.0)
        let ytrain = Tensor<Int64>(Tensor<Double>.uniform([n], seed: 62) * Double(classes))
        let Xtrain = centers[ytrain] + Tensor<Double>.uniform([n, d], seed: 63, in: -1.5...1.5)
        let ytest = Tensor<Int64>(Tensor<Double>.uniform([m], seed: 64) * Double(classes))
        let Xtest = centers[ytest] + Tensor<Double>.uniform([m, d], seed: 65, in: -1.5...1.5)
        let mu = Xtrain.mean(axis: 0)
        let Xc = Xtrain - mu
        let C = Xc.transposed.matmul(Xc) / Double(n - 1)
        var (w, V) = try C.eigh()
        let order = try w.argsort().flipped()
        w = w[order]
        V = V[.all, order]
        let W = V[.all, ..<comps]
        let Ztr = Xc.matmul(W)
        let Zte = (Xtest - mu).matmul(W)
        let d2 = Zte.pow(2).sum(axis: 1)[.all, .newAxis] - 2 * Zte.matmul(Ztr.transposed) + Ztr.pow(2).sum(axis: 1)[.newAxis, .all]
        let nn = d2.argmin(axis: 1)
        let acc1 = try (ytrain[nn] .== ytest).mean().item()
        let knn = try d2.argsort(axis: 1)[.all, ..<kn]
        let votes = Tensor.stack((0..<classes).map { c in (ytrain[knn] .== Int64(c)).sum(axis: 1) }, axis: 1)
        let acc5 = try (votes.argmax(axis: 1) .== ytest).mean().item()
        return ["explained": try (w[..<comps].sum() / w.sum()).item(), "lambda1": try w[0].item(), "lambda_min": try w[-1].item(),
                "acc1": acc1, "acc5": acc5,
                "mean_nn_dist": try max(d2.min(axis: 1), 0).sqrt().mean().item()]
    }
}
