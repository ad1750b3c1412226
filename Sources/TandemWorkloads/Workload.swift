import Tandem

/// One standard workload of `reference.py`: its parameters with their defaults, and a run that
/// returns its named outputs (as Double, whatever the element type).
///
/// `prepare` makes the inputs (materialised, outside any timer); `run` is the timed computation.
public struct Workload: Sendable {
    public let name: String
    /// Parameter names with defaults, in the reference's order.
    public let parameters: [(name: String, defaultValue: Double)]
    /// Parameters that must be whole numbers (sizes, counts).
    public let integerParameters: Set<String>
    let body: @Sendable (_ params: [String: Double], _ dtype: DType) throws -> Prepared

    public struct Prepared: Sendable {
        public let run: @Sendable () throws -> [String: Double]
    }

    /// Builds the inputs for `params` (missing ones take their defaults) in `dtype`.
    public func prepare(_ params: [String: Double], dtype: DType) throws -> Prepared {
        var full: [String: Double] = [:]
        for p in parameters { full[p.name] = params[p.name] ?? p.defaultValue }
        return try body(full, dtype)
    }

    /// Prepares and runs once.
    public func run(_ params: [String: Double], dtype: DType) throws -> [String: Double] {
        try prepare(params, dtype: dtype).run()
    }
}

/// A workload body generic over the element type.
protocol GenericWorkload {
    static func prepare<T: FloatingTensorScalar>(_ p: [String: Double], _: T.Type) throws -> Workload.Prepared
}

extension GenericWorkload {
    static func dispatch(_ p: [String: Double], _ dtype: DType) throws -> Workload.Prepared {
        switch dtype {
        case .float32: try prepare(p, Float.self)
        case .float64: try prepare(p, Double.self)
        default: throw WorkloadError.unsupportedType(dtype)
        }
    }
}

public enum WorkloadError: Error, CustomStringConvertible {
    case unsupportedType(DType)
    public var description: String {
        switch self { case .unsupportedType(let t): "workloads run in float32 or float64, not \(t)" }
    }
}

/// Reads a size parameter.
func int(_ p: [String: Double], _ name: String) -> Int { Int(p[name]!) }

/// Sums in float64, as the reference does (`np.sum(..., dtype=np.float64)`), as a lazy tensor.
func sum64<T: FloatingTensorScalar>(_ x: Tensor<T>) -> Tensor<Double> { Tensor<Double>(x).sum() }

/// Makes inputs concrete before timing starts.
func materialize<T: TensorScalar>(_ tensors: Tensor<T>...) throws {
    for t in tensors { try t.flush() }
    for t in tensors { _ = try t[indices: Array(repeating: TensorIndex.index(0), count: t.rank)].item() }
}

public enum Workloads {
    /// Every standard workload, in the reference's order.
    public static let all: [Workload] = [
        Workload(name: "black_scholes", parameters: [("n", 1_000_000), ("iterations", 1)],
                 integerParameters: ["n", "iterations"], body: BlackScholes.dispatch),
        Workload(name: "sor", parameters: [("n", 256), ("max_iterations", 100), ("epsilon", 0)],
                 integerParameters: ["n", "max_iterations"], body: SOR.dispatch),
        Workload(name: "red_black_sor", parameters: [("n", 256), ("iterations", 50), ("omega", 1.5)],
                 integerParameters: ["n", "iterations"], body: RedBlackSOR.dispatch),
        Workload(name: "shallow_water", parameters: [("n", 128), ("steps", 50), ("dt", 0.02), ("dx", 1), ("dy", 1), ("g", 9.8)],
                 integerParameters: ["n", "steps"], body: ShallowWater.dispatch),
        Workload(name: "nbody", parameters: [("n", 1024), ("steps", 10), ("dt", 0.005), ("G", 0.01), ("eps", 0.1)],
                 integerParameters: ["n", "steps"], body: NBody.dispatch),
        Workload(name: "gmm_em", parameters: [("n", 100_000), ("d", 8), ("k", 16), ("iterations", 10)],
                 integerParameters: ["n", "d", "k", "iterations"], body: GMM.dispatch),
    ]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }
}
