import Tandem

/// The largest eigenvalue of a symmetric matrix by power iteration: `w = A v`, the Rayleigh
/// quotient `λ = v·w` read every iteration, `v = w / |w|`. The matrix (positive entries plus a
/// diagonal, symmetrised) is built lazily from index arithmetic, so the first products compute
/// it on the way.
///
/// Outputs: the last `λ`, the first component of `v` and the sum of `v`.
public enum PowerIteration {
    public static func run(n: Int = 300, iterations: Int = 100) throws -> [String: Double] {
        let i = Tensor<Int64>.arange(0, Int64(n)).reshaped([n, 1]), j = Tensor<Int64>.arange(0, Int64(n)).reshaped([1, n])
        var a = (Tensor<Double>((i * j) % 7) + 1.0) / Double(n) + Tensor<Double>.eye(n) * 2.0
        a = (a + a.transposed) / 2
        var v = Tensor<Double>.ones([n]) / Double(n).squareRoot()
        var lambda = 0.0
        for _ in 0..<iterations {
            let w = a.matmul(v)
            lambda = try v.dot(w).item()
            v = w / w.norm()
        }
        return ["lambda": lambda, "v0": try v[0].item(), "v_sum": try v.sum().item()]
    }
}
