import Tandem

/// Red-black successive over-relaxation on strided views (Laplace, hot top edge).
enum RedBlackSOR: GenericWorkload {
    /// The relaxed values of the cells of one colour whose rows start at i0 and columns at j0.
    static func relaxed<T: FloatingTensorScalar>(_ a: Tensor<T>, n: Int, i0: Int, j0: Int, omega: Double) -> Tensor<T> {
        let rows = stride(from: i0, to: n + 1, by: 2), cols = stride(from: j0, to: n + 1, by: 2)
        let c = a[rows, cols]
        let nb = a[stride(from: i0 - 1, to: n, by: 2), cols] + a[stride(from: i0 + 1, to: n + 2, by: 2), cols]
            + a[rows, stride(from: j0 - 1, to: n, by: 2)] + a[rows, stride(from: j0 + 1, to: n + 2, by: 2)]
        return T(1 - omega) * c + T(omega * 0.25) * nb
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let omega = p["omega"]!
        return Workload.Prepared {
            var a = Tensor<T>.zeros([n + 2, n + 2])
            a[0, .all] = Tensor(1)
            for _ in 0..<iterations {
                for color in 0..<2 {
                    for i0 in 1...2 {
                        let j0 = 1 + ((i0 + 1 + color) % 2)   // (i + j) % 2 == color on the interior
                        a[stride(from: i0, to: n + 1, by: 2), stride(from: j0, to: n + 1, by: 2)] =
                            relaxed(a, n: n, i0: i0, j0: j0, omega: omega)
                    }
                }
            }
            return ["sum": try sum64(a).item()]
        }
    }
}
