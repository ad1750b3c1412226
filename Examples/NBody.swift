import Tandem

/// A star cluster under its own gravity: `n` bodies of random masses in a cube, softened
/// Newtonian attraction between every pair (G = 1), integrated by leapfrog (kick, drift, kick)
/// for `steps` steps of `dt`. The accelerations are all pairs at once by broadcasting, an
/// n x n x 3 array of separations reduced twice, and nothing is read inside the loop: the
/// program of a time-stepped simulation with several state variables and no sync.
///
/// Outputs: `energy_start` and `energy_end` (kinetic plus softened potential energy, pairs
/// i ≠ j), `kinetic_end`, `max_speed` at the end and `x0`, the first body's final x.
public enum NBody {
    public static func run(n: Int = 256, steps: Int = 100, dt: Double = 0.001, softening: Double = 0.05) throws -> [String: Double] {
        var position = Tensor<Double>.uniform([n, 3], seed: 41, in: -1...1)
        var velocity = Tensor<Double>.uniform([n, 3], seed: 42, in: -0.1...0.1)
        let mass = Tensor<Double>.uniform([n], seed: 43, in: 0.5...1.5) / Double(n)
        let eps2 = softening * softening

        /// The separations d[i, j] = p[j] - p[i] and the softened squared distances.
        func pairs(_ p: Tensor<Double>) -> (d: Tensor<Double>, r2: Tensor<Double>) {
            let d = p.expandingDims(at: 0) - p.expandingDims(at: 1)           // [n, n, 3]
            return (d, (d * d).sum(axis: 2) + eps2)                           // [n, n]
        }
        func accelerations(_ p: Tensor<Double>) -> Tensor<Double> {
            let (d, r2) = pairs(p)
            let w = mass.expandingDims(at: 0) / (r2 * r2.sqrt())             // m_j / r^3
            return (d * w.expandingDims(at: 2)).sum(axis: 1)                  // [n, 3]
        }
        func energy(_ p: Tensor<Double>, _ v: Tensor<Double>) -> (total: Tensor<Double>, kinetic: Tensor<Double>) {
            let kinetic = 0.5 * (mass * (v * v).sum(axis: 1)).sum()
            // Every pair twice, self-pairs (distance 0, softened to `softening`) taken out.
            let all = (mass.expandingDims(at: 1) * mass.expandingDims(at: 0) / pairs(p).r2.sqrt()).sum()
            let potential = -0.5 * (all - (mass * mass).sum() / softening)
            return (kinetic + potential, kinetic)
        }

        let start = energy(position, velocity).total
        var acceleration = accelerations(position)
        for _ in 0..<steps {
            velocity = velocity + 0.5 * dt * acceleration
            position = position + dt * velocity
            acceleration = accelerations(position)
            velocity = velocity + 0.5 * dt * acceleration
        }
        let end = energy(position, velocity)
        return ["energy_start": try start.item(), "energy_end": try end.total.item(), "kinetic_end": try end.kinetic.item(),
                "max_speed": try (velocity * velocity).sum(axis: 1).max().sqrt().item(), "x0": try position[0, 0].item()]
    }
}
