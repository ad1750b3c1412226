import Tandem

/// Five-point relaxation of an (n+2)x(n+2) plate with a hot top edge, until the summed absolute
/// change of a sweep drops below epsilon or max_iterations sweeps are done.
enum SOR: GenericWorkload {
    /// One Jacobi sweep of `rows` (interior rows of `a`, each with a row above and below in
    /// `a`) and interior columns `1...n`: the new values and their summed absolute change. The
    /// whole interior, `1..<(n + 1)`, in one process; a rank's own rows of its local block
    /// (between its halo rows) when distributed, the same expression on fewer rows.
    static func sweep<T: FloatingTensorScalar>(_ a: Tensor<T>, rows: Range<Int>, _ n: Int) -> (work: Tensor<T>, delta: Tensor<Double>) {
        let up = (rows.lowerBound - 1)..<(rows.upperBound - 1), down = (rows.lowerBound + 1)..<(rows.upperBound + 1)
        let center = a[rows, 1...n]
        let work = T(0.2) * (center + a[up, 1...n] + a[down, 1...n] + a[rows, 0..<n] + a[rows, 2...(n + 1)])
        return (work, sum64((work - center).abs()))
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), maxIterations = int(p, "max_iterations")
        let epsilon = p["epsilon"]!
        return Workload.Prepared {
            var a = Tensor<T>.zeros([n + 2, n + 2])
            a[0, .all] = Tensor(1)
            var delta = Double.infinity
            var sweeps = 0
            while sweeps < maxIterations && delta >= epsilon {
                let (work, change) = sweep(a, rows: 1..<(n + 1), n)
                a[1...n, 1...n] = work
                delta = try change.item()     // the sweep and its write-back are planned together
                sweeps += 1
            }
            return ["sweeps": Double(sweeps), "last_delta": delta, "sum": try sum64(a).item()]
        }
    }
}
