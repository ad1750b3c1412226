import Tandem
import TandemDistributed
import TandemMPI

/// N-body with the bodies in blocks over the ranks: each rank steps its own bodies with the
/// single-process step (`NBody.step`: its rows of the all-pairs interaction, pulled by every
/// body), then every rank's new positions are gathered on every rank (one `MPI_Allgatherv` of
/// the x, y, z columns per step), so every rank holds the same positions for the next step. The
/// sums are added over ranks in rank order.
enum DistributedNBody: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let n = int(p, "n"), steps = int(p, "steps")
        let dt = T(p["dt"]!), G = T(p["G"]!), eps = p["eps"]!
        let (x0, y0, z0, m) = NBody.bodies(n, T.self)
        let mine = BlockDistribution(rows: n, ranks: world.size).range(of: world.rank)
        try materialize(x0, y0, z0, m)
        let zeros = Tensor<T>.zeros([mine.count])
        let initial = NBody.State(x: x0[mine], y: y0[mine], z: z0[mine], vx: zeros, vy: zeros, vz: zeros)
        let ownMasses = m[mine]
        return Workload.Prepared {
            var own = initial
            var (x, y, z) = (x0, y0, z0)           // every body's position, the same on every rank
            for _ in 0..<steps {
                if !mine.isEmpty { own = NBody.step(own, x: x, y: y, z: z, m: m, dt: dt, G: G, eps: eps) }
                let positions = mine.isEmpty ? Tensor<T>.zeros([0, 3]) : Tensor<T>.columnStack([own.x, own.y, own.z])
                let all = try world.allgather(positions, rest: [3])
                (x, y, z) = (all[.all, 0], all[.all, 1], all[.all, 2])
            }
            var partials = [0.0, 0.0, 0.0, 0.0]
            if !mine.isEmpty {
                let sums = [sum64(own.x), sum64(own.y), sum64(own.z), NBody.twiceKinetic(own, m: ownMasses)]
                try Tandem.flush(sums)
                partials = try sums.map { try $0.item() }
            }
            let totals = try world.allreduce(partials, .sum)
            return ["x_sum": totals[0], "y_sum": totals[1], "z_sum": totals[2], "kinetic": 0.5 * totals[3]]
        }
    }
}
