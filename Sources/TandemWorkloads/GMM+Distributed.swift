import Tandem
import TandemDistributed
import TandemMPI

/// GMM EM with the points in blocks over the ranks and the model (means, variances, weights)
/// replicated: each rank runs the single-process E-step and the M-step's sums on its own points
/// (`GMM.expectation`, `GMM.weightedSums`, `GMM.spreadSum`), and the per-component sums are
/// added over ranks in rank order (`Communicator.allreduce` of the tensors of partial sums):
/// first the responsibilities and weighted points (and the log-likelihood), from which every
/// rank computes the same new means, then the squared deviations from them. Every rank updates
/// its model from the same sums, so the models stay the same bits everywhere.
enum DistributedGMM: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let n = int(p, "n"), d = int(p, "d"), k = int(p, "k"), iterations = int(p, "iterations")
        let (X, mu0) = GMM.points(n: n, d: d, k: k, T.self)
        let mine = BlockDistribution(rows: n, ranks: world.size).range(of: world.rank)
        let ownPoints = X[mine]
        if !mine.isEmpty { try materialize(ownPoints) }
        try materialize(mu0)
        return Workload.Prepared {
            var (mu, variance, w) = GMM.initialModel(mu0: mu0, k: k, d: d)
            var logliks: [Double] = []
            for _ in 0..<iterations {
                // The sums over this rank's points (zeros on a rank that holds none).
                var sums = Tensor<T>.zeros([k * (d + 1)]), loglik = 0.0
                var resp: Tensor<T>? = nil
                if !mine.isEmpty {
                    let (lse, r) = GMM.expectation(ownPoints, mu: mu, variance: variance, w: w)
                    let (counts, weighted) = GMM.weightedSums(r, ownPoints)
                    let partial = sum64(lse)
                    sums = Tensor.concatenate([counts, weighted.reshaped([k * d])], axis: 0)
                    // The responsibilities too: the second pass reads them after the allreduce.
                    try Tandem.flush(sums, partial, r)
                    loglik = try partial.item()
                    resp = r
                }
                let totals = try world.allreduce(sums, .sum)
                logliks.append(try world.allreduce(loglik, .sum))
                let nk: Tensor<T>
                (nk, w, mu) = GMM.weightsAndMeans(counts: totals[..<k], weighted: totals[k...].reshaped([k, d]), n: n)
                let spread = resp.map { GMM.spreadSum($0, ownPoints, mu: mu) } ?? Tensor<T>.zeros([k, d])
                variance = GMM.variances(spread: try world.allreduce(spread, .sum), nk: nk)
                try Tandem.flush(mu, variance, w)
            }
            // The model is the same bits on every rank; its sums are rank 0's, so that no
            // difference in how a rank's runtime ran the sums' kernels can show.
            let summary = try GMM.summary(mu: mu, variance: variance)
            let shared = try world.broadcast([summary["mu_abs_sum"]!, summary["var_sum"]!], from: 0)
            return ["loglik_first": logliks[0], "loglik_last": logliks[logliks.count - 1],
                    "mu_abs_sum": shared[0], "var_sum": shared[1]]
        }
    }
}
