import Tandem

/// All-pairs gravity written with N x N broadcasting, Euler steps. The N x N temporaries are
/// never materialised: each step is one fused reduction kernel over the pairs.
enum NBody: GenericWorkload {
    /// The bodies' starting positions and masses, all n of them (generated element by element:
    /// a rank computes only the rows it slices).
    static func bodies<T: FloatingTensorScalar>(_ n: Int, _: T.Type) -> (x: Tensor<T>, y: Tensor<T>, z: Tensor<T>, m: Tensor<T>) {
        (Tensor<T>.uniform([n], seed: 10, in: -1...1), Tensor<T>.uniform([n], seed: 11, in: -1...1),
         Tensor<T>.uniform([n], seed: 12, in: -1...1), Tensor<T>.uniform([n], seed: 13, in: 0.5...1.5))
    }

    /// The positions and velocities of some bodies.
    struct State<T: FloatingTensorScalar> {
        var x, y, z, vx, vy, vz: Tensor<T>
    }

    /// One Euler step of the bodies `own`, pulled by every body (positions `x`, `y`, `z`, masses
    /// `m`): in one process `own` is every body; distributed, a rank's block of bodies, which
    /// reads every body's position (gathered each step) and updates only its own.
    static func step<T: FloatingTensorScalar>(_ own: State<T>, x: Tensor<T>, y: Tensor<T>, z: Tensor<T>, m: Tensor<T>,
                                              dt: T, G: T, eps: Double) -> State<T> {
        let dx = x[.newAxis, .all] - own.x[.all, .newAxis]
        let dy = y[.newAxis, .all] - own.y[.all, .newAxis]
        let dz = z[.newAxis, .all] - own.z[.all, .newAxis]
        let r2 = dx * dx + dy * dy + dz * dz + T(eps * eps)
        let w = G * m[.newAxis, .all] / (r2 * r2.sqrt())
        let vx = own.vx + dt * (dx * w).sum(axis: 1)
        let vy = own.vy + dt * (dy * w).sum(axis: 1)
        let vz = own.vz + dt * (dz * w).sum(axis: 1)
        return State(x: own.x + dt * vx, y: own.y + dt * vy, z: own.z + dt * vz, vx: vx, vy: vy, vz: vz)
    }

    /// Twice the kinetic energy of `own` with masses `m`, summed in float64.
    static func twiceKinetic<T: FloatingTensorScalar>(_ own: State<T>, m: Tensor<T>) -> Tensor<Double> {
        sum64(m * (own.vx * own.vx + own.vy * own.vy + own.vz * own.vz))
    }

    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared {
        let n = int(p, "n"), steps = int(p, "steps")
        let dt = T(p["dt"]!), G = T(p["G"]!), eps = p["eps"]!
        let (x0, y0, z0, m) = bodies(n, T.self)
        try materialize(x0, y0, z0, m)
        return Workload.Prepared {
            var s = State(x: x0, y: y0, z: z0, vx: Tensor<T>.zeros([n]), vy: Tensor<T>.zeros([n]), vz: Tensor<T>.zeros([n]))
            for _ in 0..<steps {
                s = step(s, x: s.x, y: s.y, z: s.z, m: m, dt: dt, G: G, eps: eps)
            }
            let kinetic = Tensor<Double>(0.5) * twiceKinetic(s, m: m)
            let sums = (sum64(s.x), sum64(s.y), sum64(s.z))
            try Tandem.flush(sums.0, sums.1, sums.2, kinetic)
            return ["x_sum": try sums.0.item(), "y_sum": try sums.1.item(), "z_sum": try sums.2.item(),
                    "kinetic": try kinetic.item()]
        }
    }
}
