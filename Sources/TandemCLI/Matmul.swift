import ArgumentParser
import Tandem
import TandemBLAS
import TandemRuntime

/// `tandem matmul`: a square matrix product timed on the path `matmul` takes (the BLAS when
/// one is found, else Tandem's tiled kernel; `TANDEM_BLAS=off` forces that, and with
/// `TANDEM_DEVICE=interpreter` the generated reduction runs), best of several runs.
/// `bench/micro/matmul.py` is NumPy's side.
struct Matmul: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "Time an n x n matrix product (best of --repeat) on the path matmul takes.")

    @Option(help: "Side of the square matrices.") var n = 2000
    @Option(help: "Runs; the best is reported.") var `repeat` = 5
    @Flag(help: "Float instead of Double.") var float = false
    @Flag(help: "A matrix-vector and a vector-matrix product (a @ v, v @ a, v of n) instead.") var vector = false

    func run() throws {
        try withUsageErrors { () -> Void in
            guard n > 0, n <= 20_000, `repeat` > 0, `repeat` <= 1000 else {
                throw UsageError(description: "--n takes a side from 1 to 20000, --repeat a count from 1 to 1000")
            }
        }
        print("matmul of \(vector ? "an \(n) x \(n) matrix and a vector of \(n)" : "two \(n) x \(n)") \(float ? "float32" : "float64")\(vector ? "" : " matrices"); blas: \(BLAS.shared.availability)")
        if float { try time(Float.self) } else { try time(Double.self) }
    }

    private func time<S: FloatingTensorScalar>(_: S.Type) throws {
        let a = Tensor<S>.uniform([n, n], seed: 1, in: -1...1), b = Tensor<S>.uniform([n, n], seed: 2, in: -1...1)
        try a.flush(); try b.flush()
        _ = try a.scalars; _ = try b.scalars
        if vector {
            let v = b[0]
            try v.flush()
            try best("a @ v") { try a.matmul(v)[0].item() }
            try best("v @ a") { try v.matmul(a)[0].item() }
        } else {
            try best("a @ b") { try a.matmul(b)[0, 0].item() }
        }
    }

    /// Runs `product` --repeat times, each line with its path and rate, then the best time.
    private func best<S: FloatingTensorScalar>(_ what: String, _ product: () throws -> S) throws {
        var best = Double.infinity
        let flops = 2 * Double(n) * Double(n) * (vector ? 1 : Double(n))
        for _ in 0..<`repeat` {
            let before = (Tandem.statistics.blasCalls, Tandem.statistics.tiledProducts)
            let start = ProcessInfoLite.monotonicNanos()
            let first = try product()
            let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
            best = Swift.min(best, seconds)
            let after = (Tandem.statistics.blasCalls, Tandem.statistics.tiledProducts)
            let path = after.0 > before.0 ? "blas" : after.1 > before.1 ? "tiled" : "generated"
            print("  \(what): \(format(seconds * 1e3)) ms (\(path)), \(format(flops / seconds / 1e9)) GFLOP/s, first element \(first)")
        }
        print("best \(what) \(format(best * 1e3)) ms")
    }

    private func format(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
}
