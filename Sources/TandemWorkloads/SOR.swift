import Tandem

/// Five-point relaxation of an (n+2)x(n+2) plate with a hot top edge, until the summed absolute
/// change of a sweep drops below epsilon or max_iterations sweeps are done.
enum SOR: GenericWorkload {
    /// One Jacobi sweep of the interior: the new values and their summed absolute change.
    static func sweep<T: FloatingTensorScalar>(_ a: Tensor<T>, _ n: Int) -> (work: Tensor<T>, delta: Tensor<Double>) {
        let center = a[1...n, 1...n]
        let work = T(0.2) * (center + a[0..<n, 1...n] + a[2...(n + 1), 1...n] + a[1...n, 0..<n] + a[1...n, 2...(n + 1)])
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
                let (work, change) = sweep(a, n)
                a[1...n, 1...n] = work
                delta = try change.item()     // the sweep and its write-back are planned together
                sweeps += 1
            }
            return ["sweeps": Double(sweeps), "last_delta": delta, "sum": try sum64(a).item()]
        }
    }
}
