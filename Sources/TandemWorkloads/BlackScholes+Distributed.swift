import Tandem
import TandemDistributed
import TandemMPI

/// Black-Scholes with the options in blocks over the ranks: each rank draws and prices only
/// its own options (the inputs are drawn by index, so a block is the same values one process
/// draws for those rows) with the single-process pricing (`BlackScholes.priceSums`), and the
/// call and put sums of every iteration are added over ranks in rank order. No communication
/// but the one all-reduce of two numbers an iteration: what scales with ranks.
enum DistributedBlackScholes: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let mine = BlockDistribution(rows: n, ranks: world.size).range(of: world.rank)
        let (allS, allX, allT) = BlackScholes.options(n, T.self)
        let (S, X, T_) = (allS[mine], allX[mine], allT[mine])
        if !mine.isEmpty { try materialize(S, X, T_) }
        return Workload.Prepared {
            var callSum = 0.0, putSum = 0.0
            for it in 0..<iterations {
                var partials = [0.0, 0.0]
                if !mine.isEmpty {
                    let (c, q) = BlackScholes.priceSums(S: S, X: X, T: T_, r: BlackScholes.rate(it, of: iterations))
                    try Tandem.flush(c, q)
                    partials = [try c.item(), try q.item()]
                }
                let totals = try world.allreduce(partials, .sum)
                callSum += totals[0]
                putSum += totals[1]
            }
            return ["call_sum": callSum, "put_sum": putSum]
        }
    }
}
