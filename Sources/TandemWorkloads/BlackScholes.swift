import Tandem

/// European call and put prices for n options, summed (the classic CUDA-sample ranges).
enum BlackScholes: GenericWorkload {
    /// The options' inputs: spot prices, strikes and times to expiry, drawn by index (the same
    /// values whatever part of them is computed).
    static func options<T: FloatingTensorScalar>(_ n: Int, _: T.Type) -> (S: Tensor<T>, X: Tensor<T>, T: Tensor<T>) {
        (Tensor<T>.uniform([n], seed: 1, in: 5...30), Tensor<T>.uniform([n], seed: 2, in: 1...100), Tensor<T>.uniform([n], seed: 3, in: 0.25...10))
    }

    /// Iteration `it` of `iterations` prices a slightly different rate.
    static func rate(_ it: Int, of iterations: Int) -> Double { 0.02 * (1.0 + Double(it) / Double(Swift.max(iterations, 1)) * 0.01) }

    /// The sums of the call and put prices of the options at rate `r` (volatility 0.30),
    /// accumulated in Double; one fused kernel prices both once they are flushed together.
    static func priceSums<T: FloatingTensorScalar>(S: Tensor<T>, X: Tensor<T>, T T_: Tensor<T>, r: Double) -> (call: Tensor<Double>, put: Tensor<Double>) {
        let V = 0.30
        let sqrtT = T_.sqrt()
        let d1 = ((S / X).log() + T(r + 0.5 * V * V) * T_) / (T(V) * sqrtT)
        let d2 = d1 - T(V) * sqrtT
        let cnd1 = T(0.5) * (-d1 / T(2.0.squareRoot())).erfc()
        let cnd2 = T(0.5) * (-d2 / T(2.0.squareRoot())).erfc()
        let expRT = (T(-r) * T_).exp()
        let call = S * cnd1 - X * expRT * cnd2
        let put = X * expRT * (1 - cnd2) - S * (1 - cnd1)
        return (sum64(call), sum64(put))
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let (S, X, T_) = options(n, T.self)
        try materialize(S, X, T_)
        return Workload.Prepared {
            var callSum = 0.0, putSum = 0.0
            for it in 0..<iterations {
                let (c, q) = priceSums(S: S, X: X, T: T_, r: rate(it, of: iterations))
                try Tandem.flush(c, q)          // one fused kernel prices both
                callSum += try c.item()
                putSum += try q.item()
            }
            return ["call_sum": callSum, "put_sum": putSum]
        }
    }
}
