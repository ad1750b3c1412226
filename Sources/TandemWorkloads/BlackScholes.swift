import Tandem

/// European call and put prices for n options, summed (the classic CUDA-sample ranges).
enum BlackScholes: GenericWorkload {
    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let S = Tensor<T>.uniform([n], seed: 1, in: 5...30)
        let X = Tensor<T>.uniform([n], seed: 2, in: 1...100)
        let T_ = Tensor<T>.uniform([n], seed: 3, in: 0.25...10)
        try materialize(S, X, T_)
        return Workload.Prepared {
            let R = 0.02, V = 0.30
            var callSum = 0.0, putSum = 0.0
            for it in 0..<iterations {
                let r = R * (1.0 + Double(it) / Double(Swift.max(iterations, 1)) * 0.01)
                let sqrtT = T_.sqrt()
                let d1 = ((S / X).log() + T(r + 0.5 * V * V) * T_) / (T(V) * sqrtT)
                let d2 = d1 - T(V) * sqrtT
                let cnd1 = T(0.5) * (-d1 / T(2.0.squareRoot())).erfc()
                let cnd2 = T(0.5) * (-d2 / T(2.0.squareRoot())).erfc()
                let expRT = (T(-r) * T_).exp()
                let call = S * cnd1 - X * expRT * cnd2
                let put = X * expRT * (1 - cnd2) - S * (1 - cnd1)
                let (c, q) = (sum64(call), sum64(put))
                try Tandem.flush(c, q)          // one fused kernel prices both
                callSum += try c.item()
                putSum += try q.item()
            }
            return ["call_sum": callSum, "put_sum": putSum]
        }
    }
}
