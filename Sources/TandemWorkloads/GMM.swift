import Tandem

/// Expectation-maximisation for a diagonal-covariance Gaussian mixture.
enum GMM: GenericWorkload {
    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), d = int(p, "d"), k = int(p, "k"), iterations = int(p, "iterations")
        // X[i] = centers[i % k] + noise[i]: rows grouped k at a time so the label is an axis.
        let centers = Tensor<Double>.uniform([k, d], seed: 20, in: -10...10)
        let groups = (n + k - 1) / k
        let noise = Tensor<Double>.uniform([groups * k, d], seed: 21, in: -1.5...1.5).reshaped([groups, k, d])
        let X = Tensor<T>((centers[.newAxis] + noise).reshaped([groups * k, d])[..<n, .all])
        let mu0 = Tensor<T>(Tensor<Double>.uniform([k, d], seed: 22, in: -10...10))
        try materialize(X, mu0)
        return Workload.Prepared {
            var mu = mu0
            var variance = Tensor<T>.ones([k, d])
            var w = Tensor<T>.full([k], T(1.0 / Double(k)))
            var logliks: [Double] = []
            let twoPi = T(2 * Double.pi)
            for _ in 0..<iterations {
                // E-step: log p(x_i, c) for every point and component, then normalise.
                let diff = X[.all, .newAxis, .all] - mu[.newAxis]                                 // n x k x d
                let logp = w.log()[.newAxis] - T(0.5) * ((twoPi * variance).log()[.newAxis] + diff * diff / variance[.newAxis]).sum(axis: 2)
                let top = logp.max(axis: 1)
                let lse = top + (logp - top[.all, .newAxis]).exp().sum(axis: 1).log()
                let resp = (logp - lse[.all, .newAxis]).exp()                                      // n x k
                let loglik = sum64(lse)
                // M-step.
                let nk = resp.sum(axis: 0) + T(1e-10)
                w = nk / T(Double(n))
                mu = (resp[.all, .all, .newAxis] * X[.all, .newAxis, .all]).sum(axis: 0) / nk[.all, .newAxis]
                let dev = X[.all, .newAxis, .all] - mu[.newAxis]
                variance = (resp[.all, .all, .newAxis] * dev * dev).sum(axis: 0) / nk[.all, .newAxis] + T(1e-6)
                try Tandem.flush(loglik, mu, variance, w)
                logliks.append(try loglik.item())
            }
            let muAbs = sum64(mu.abs()), varSum = sum64(variance)
            return ["loglik_first": logliks[0], "loglik_last": logliks[logliks.count - 1],
                    "mu_abs_sum": try muAbs.item(), "var_sum": try varSum.item()]
        }
    }
}
