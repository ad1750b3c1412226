import Tandem
import TandemDistributed
import TandemMPI

/// SOR with the plate's rows cut into blocks over the ranks of an MPI job: each rank sweeps its
/// own interior rows with the single-process sweep (`SOR.sweep`, one fused kernel for the
/// stencil, the write-back and the local change), the halo rows are exchanged with the
/// neighbours before each sweep, and the change and the final sum are added over ranks in rank
/// order. Every value of the plate is computed by the same expression as in one process, so the
/// plate is the same; the summed outputs differ from one process's only by the order of the
/// additions (within the workload's tolerance), and are the same bits on every rank, so every
/// rank stops after the same sweep.
enum DistributedSOR: GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
        let n = int(p, "n"), maxIterations = int(p, "max_iterations")
        let epsilon = p["epsilon"]!
        return Workload.Prepared {
            var plate = Tensor<T>.zeros([n + 2, n + 2])
            plate[0, .all] = Tensor(1)
            var a = try DistributedTensor(plate, halo: 1, on: world)
            // This rank's rows of the interior 1...n, as positions in its local block.
            let rows = a.localRows(in: 1..<(n + 1))
            var delta = Double.infinity
            var sweeps = 0
            while sweeps < maxIterations && delta >= epsilon {
                try a.exchangeHalos()
                var partial = 0.0
                if !rows.isEmpty {
                    let (work, change) = SOR.sweep(a.local, rows: rows, n)
                    a.local[rows, 1...n] = work
                    partial = try change.item()     // the sweep and its write-back, planned together
                }
                delta = try world.allreduce(partial, .sum)
                sweeps += 1
            }
            return ["sweeps": Double(sweeps), "last_delta": delta, "sum": try a.sum()]
        }
    }
}
