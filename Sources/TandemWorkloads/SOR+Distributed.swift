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
enum DistributedSOR {
    static func prepare<T: FloatingTensorScalar & BitwiseCopyable>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared {
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

    static func dispatch(_ p: [String: Double], _ dtype: DType, _ world: Communicator) throws -> Workload.Prepared {
        switch dtype {
        case .float32: try prepare(p, Float.self, world: world)
        case .float64: try prepare(p, Double.self, world: world)
        default: throw WorkloadError.unsupportedType(dtype)
        }
    }
}

/// A standard workload that also runs distributed over the ranks of an MPI job: the same
/// parameters and outputs as the single-process `workload`, every rank returning the same
/// outputs.
public struct DistributedWorkload: Sendable {
    /// The single-process workload: its name, parameters and defaults.
    public let workload: Workload
    let body: @Sendable (_ params: [String: Double], _ dtype: DType, _ world: Communicator) throws -> Workload.Prepared

    /// Builds this rank's part of the inputs for `params` (missing ones take their defaults).
    public func prepare(_ params: [String: Double], dtype: DType, on world: Communicator) throws -> Workload.Prepared {
        var full: [String: Double] = [:]
        for p in workload.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
        return try body(full, dtype, world)
    }
}

public enum DistributedWorkloads {
    /// The workloads that run distributed so far.
    public static let all: [DistributedWorkload] = [
        DistributedWorkload(workload: Workloads.named("sor")!, body: DistributedSOR.dispatch),
    ]

    public static func named(_ name: String) -> DistributedWorkload? { all.first { $0.workload.name == name } }
}
