import Tandem

/// Expectation-maximisation for a diagonal-covariance Gaussian mixture.
enum GMM: GenericWorkload {
    /// All n points, `X[i] = centers[i % k] + noise[i]` (rows grouped k at a time so the label
    /// is an axis; lazy: a rank computes only the rows it slices), and the starting means.
    static func points<T: FloatingTensorScalar>(n: Int, d: Int, k: Int, _: T.Type) -> (X: Tensor<T>, mu: Tensor<T>) {
        let centers = Tensor<Double>.uniform([k, d], seed: 20, in: -10...10)
        let groups = (n + k - 1) / k
        let noise = Tensor<Double>.uniform([groups * k, d], seed: 21, in: -1.5...1.5).reshaped([groups, k, d])
        let X = Tensor<T>((centers[.newAxis] + noise).reshaped([groups * k, d])[..<n, .all])
        return (X, Tensor<T>(Tensor<Double>.uniform([k, d], seed: 22, in: -10...10)))
    }

    /// The E-step for the points `X` (all of them in one process, a rank's block distributed):
    /// each point's log-likelihood (log-sum-exp over the components) and its responsibilities
    /// (points x k).
    static func expectation<T: FloatingTensorScalar>(_ X: Tensor<T>, mu: Tensor<T>, variance: Tensor<T>, w: Tensor<T>)
        -> (lse: Tensor<T>, resp: Tensor<T>) {
        let twoPi = T(2 * Double.pi)
        let diff = X[.all, .newAxis, .all] - mu[.newAxis]                                     // points x k x d
        let logp = w.log()[.newAxis] - T(0.5) * ((twoPi * variance).log()[.newAxis] + diff * diff / variance[.newAxis]).sum(axis: 2)
        let top = logp.max(axis: 1)
        let lse = top + (logp - top[.all, .newAxis]).exp().sum(axis: 1).log()
        return (lse, (logp - lse[.all, .newAxis]).exp())                                      // points x k
    }

    /// The M-step's sums over the points `X`: each component's responsibility (k) and its
    /// responsibility-weighted points (k x d). Sums over blocks of points add up to the sums
    /// over all of them.
    static func weightedSums<T: FloatingTensorScalar>(_ resp: Tensor<T>, _ X: Tensor<T>) -> (counts: Tensor<T>, weighted: Tensor<T>) {
        (resp.sum(axis: 0), (resp[.all, .all, .newAxis] * X[.all, .newAxis, .all]).sum(axis: 0))
    }

    /// The M-step's responsibility-weighted squared deviations from the new means `mu` (k x d),
    /// the second pass (stable in float32).
    static func spreadSum<T: FloatingTensorScalar>(_ resp: Tensor<T>, _ X: Tensor<T>, mu: Tensor<T>) -> Tensor<T> {
        let dev = X[.all, .newAxis, .all] - mu[.newAxis]
        return (resp[.all, .all, .newAxis] * dev * dev).sum(axis: 0)
    }

    /// The starting model of `k` components in `d` dimensions for the means `mu0`: unit
    /// variances, equal weights.
    static func initialModel<T: FloatingTensorScalar>(mu0: Tensor<T>, k: Int, d: Int) -> (mu: Tensor<T>, variance: Tensor<T>, w: Tensor<T>) {
        (mu0, Tensor<T>.ones([k, d]), Tensor<T>.full([k], T(1.0 / Double(k))))
    }

    /// The M-step's weights and means from the sums over all `n` points (`weightedSums`, added
    /// over every block of points), with the regularised counts `nk` the variances divide by.
    static func weightsAndMeans<T: FloatingTensorScalar>(counts: Tensor<T>, weighted: Tensor<T>, n: Int) -> (nk: Tensor<T>, w: Tensor<T>, mu: Tensor<T>) {
        let nk = counts + T(1e-10)
        return (nk, nk / T(Double(n)), weighted / nk[.all, .newAxis])
    }

    /// The M-step's variances from the summed squared deviations (`spreadSum`) and `nk`.
    static func variances<T: FloatingTensorScalar>(spread: Tensor<T>, nk: Tensor<T>) -> Tensor<T> {
        spread / nk[.all, .newAxis] + T(1e-6)
    }

    /// The outputs of the final means and variances.
    static func summary<T: FloatingTensorScalar>(mu: Tensor<T>, variance: Tensor<T>) throws -> [String: Double] {
        let muAbs = sum64(mu.abs()), varSum = sum64(variance)
        try Tandem.flush(muAbs, varSum)
        return ["mu_abs_sum": try muAbs.item(), "var_sum": try varSum.item()]
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), d = int(p, "d"), k = int(p, "k"), iterations = int(p, "iterations")
        let (X, mu0) = points(n: n, d: d, k: k, T.self)
        try materialize(X, mu0)
        return Workload.Prepared {
            var (mu, variance, w) = initialModel(mu0: mu0, k: k, d: d)
            var logliks: [Double] = []
            for _ in 0..<iterations {
                let (lse, resp) = expectation(X, mu: mu, variance: variance, w: w)
                let loglik = sum64(lse)
                let (counts, weighted) = weightedSums(resp, X)
                let nk: Tensor<T>
                (nk, w, mu) = weightsAndMeans(counts: counts, weighted: weighted, n: n)
                variance = variances(spread: spreadSum(resp, X, mu: mu), nk: nk)
                try Tandem.flush(loglik, mu, variance, w)
                logliks.append(try loglik.item())
            }
            return try summary(mu: mu, variance: variance).merging(
                ["loglik_first": logliks[0], "loglik_last": logliks[logliks.count - 1]]) { a, _ in a }
        }
    }
}
