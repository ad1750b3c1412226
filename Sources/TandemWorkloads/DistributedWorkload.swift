import Tandem
import TandemDistributed
import TandemMPI

/// A standard workload that also runs distributed over the ranks of an MPI job: the same
/// parameters and outputs as the single-process `workload`, every rank returning the same
/// outputs (the same bits: what ranks combine, they combine in rank order).
///
///     let world = try Communicator.world()
///     let water = DistributedWorkloads.named("shallow_water")!
///     let outputs = try water.prepare(["n": 64, "steps": 10], dtype: .float64, on: world).run()
///     if world.rank == 0 { print(outputs["h_sum"]!) }
public struct DistributedWorkload: Sendable {
    /// The single-process workload: its name, parameters and defaults.
    public let workload: Workload
    let body: @Sendable (_ params: [String: Double], _ dtype: DType, _ world: Communicator) throws -> Workload.Prepared

    /// Builds this rank's part of the inputs for `params` (missing ones take their defaults).
    /// Every rank must call it, and then `run` the result.
    public func prepare(_ params: [String: Double], dtype: DType, on world: Communicator) throws -> Workload.Prepared {
        var full: [String: Double] = [:]
        for p in workload.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
        return try body(full, dtype, world)
    }
}

/// The standard workloads that run over the ranks of an MPI job (`tandem run W --distributed`).
///
///     let runsDistributed = DistributedWorkloads.named("black_scholes") != nil    // false
public enum DistributedWorkloads {
    /// The workloads that run distributed, in the reference's order.
    public static let all: [DistributedWorkload] = [
        DistributedWorkload(workload: Workloads.named("black_scholes")!, body: DistributedBlackScholes.dispatch),
        DistributedWorkload(workload: Workloads.named("sor")!, body: DistributedSOR.dispatch),
        DistributedWorkload(workload: Workloads.named("red_black_sor")!, body: DistributedRedBlackSOR.dispatch),
        DistributedWorkload(workload: Workloads.named("shallow_water")!, body: DistributedShallowWater.dispatch),
        DistributedWorkload(workload: Workloads.named("nbody")!, body: DistributedNBody.dispatch),
        DistributedWorkload(workload: Workloads.named("gmm_em")!, body: DistributedGMM.dispatch),
    ]

    /// The distributed form of the workload `name`, nil when it runs in one process only.
    ///
    ///     let names = DistributedWorkloads.all.map(\.workload.name)    // black_scholes, sor, ...
    ///     let nbody = DistributedWorkloads.named("nbody")
    public static func named(_ name: String) -> DistributedWorkload? { all.first { $0.workload.name == name } }
}

/// The element types a distributed workload runs in: floats whose partials the ranks can
/// move as bytes and combine in rank order.
typealias DistributedScalar = FloatingTensorScalar & BitwiseCopyable & RankOrderedReducible

/// A distributed workload body generic over the element type.
protocol GenericDistributedWorkload {
    static func prepare<T: DistributedScalar>(_ p: [String: Double], _: T.Type, world: Communicator) throws -> Workload.Prepared
}

extension GenericDistributedWorkload {
    static func dispatch(_ p: [String: Double], _ dtype: DType, _ world: Communicator) throws -> Workload.Prepared {
        switch dtype {
        case .float32: try prepare(p, Float.self, world: world)
        case .float64: try prepare(p, Double.self, world: world)
        default: throw WorkloadError.unsupportedType(dtype)
        }
    }
}
