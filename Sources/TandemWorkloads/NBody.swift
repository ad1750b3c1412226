import Tandem

/// All-pairs gravity written with N x N broadcasting, Euler steps. The N x N temporaries are
/// never materialised: each step is one fused reduction kernel over the pairs.
enum NBody: GenericWorkload {
    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), steps = int(p, "steps")
        let dt = T(p["dt"]!), G = T(p["G"]!), eps = p["eps"]!
        let x0 = Tensor<T>.uniform([n], seed: 10, in: -1...1)
        let y0 = Tensor<T>.uniform([n], seed: 11, in: -1...1)
        let z0 = Tensor<T>.uniform([n], seed: 12, in: -1...1)
        let m = Tensor<T>.uniform([n], seed: 13, in: 0.5...1.5)
        try materialize(x0, y0, z0, m)
        return Workload.Prepared {
            var (x, y, z) = (x0, y0, z0)
            var (vx, vy, vz) = (Tensor<T>.zeros([n]), Tensor<T>.zeros([n]), Tensor<T>.zeros([n]))
            for _ in 0..<steps {
                let dx = x[.newAxis, .all] - x[.all, .newAxis]
                let dy = y[.newAxis, .all] - y[.all, .newAxis]
                let dz = z[.newAxis, .all] - z[.all, .newAxis]
                let r2 = dx * dx + dy * dy + dz * dz + T(eps * eps)
                let w = G * m[.newAxis, .all] / (r2 * r2.sqrt())
                vx = vx + dt * (dx * w).sum(axis: 1)
                vy = vy + dt * (dy * w).sum(axis: 1)
                vz = vz + dt * (dz * w).sum(axis: 1)
                (x, y, z) = (x + dt * vx, y + dt * vy, z + dt * vz)
            }
            let kinetic = Tensor<Double>(0.5) * sum64(m * (vx * vx + vy * vy + vz * vz))
            let sums = (sum64(x), sum64(y), sum64(z))
            try Tandem.flush(sums.0, sums.1, sums.2, kinetic)
            return ["x_sum": try sums.0.item(), "y_sum": try sums.1.item(), "z_sum": try sums.2.item(),
                    "kinetic": try kinetic.item()]
        }
    }
}
