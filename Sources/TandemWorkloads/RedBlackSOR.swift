import Tandem

/// Red-black successive over-relaxation on strided views (Laplace, hot top edge).
enum RedBlackSOR: GenericWorkload {
    /// The relaxed values of the cells of one colour in rows `stride(from: rowStart, to: rowEnd,
    /// by: 2)` of `a` (each with a row above and below in `a`) and columns from `j0` by 2. In one
    /// process the rows run from `i0` to `n + 1`; distributed, over a rank's own rows of that
    /// stride in its local block (between its halo rows): the same expression on fewer rows.
    static func relaxed<T: FloatingTensorScalar>(_ a: Tensor<T>, rowStart: Int, rowEnd: Int, n: Int, j0: Int, omega: Double) -> Tensor<T> {
        let rows = stride(from: rowStart, to: rowEnd, by: 2), cols = stride(from: j0, to: n + 1, by: 2)
        let c = a[rows, cols]
        let nb = a[stride(from: rowStart - 1, to: rowEnd - 1, by: 2), cols] + a[stride(from: rowStart + 1, to: rowEnd + 1, by: 2), cols]
            + a[rows, stride(from: j0 - 1, to: n, by: 2)] + a[rows, stride(from: j0 + 1, to: n + 2, by: 2)]
        return T(1 - omega) * c + T(omega * 0.25) * nb
    }

    /// The first column of colour `color` in rows of the parity of `i0`: `(i + j) % 2 == color`
    /// on the interior.
    static func firstColumn(i0: Int, color: Int) -> Int { 1 + ((i0 + 1 + color) % 2) }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), iterations = int(p, "iterations")
        let omega = p["omega"]!
        return Workload.Prepared {
            var a = Tensor<T>.zeros([n + 2, n + 2])
            a[0, .all] = Tensor(1)
            for _ in 0..<iterations {
                for color in 0..<2 {
                    for i0 in 1...2 {
                        let j0 = firstColumn(i0: i0, color: color)
                        a[stride(from: i0, to: n + 1, by: 2), stride(from: j0, to: n + 1, by: 2)] =
                            relaxed(a, rowStart: i0, rowEnd: n + 1, n: n, j0: j0, omega: omega)
                    }
                }
            }
            return ["sum": try sum64(a).item()]
        }
    }
}
