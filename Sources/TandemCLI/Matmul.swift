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

    func run() throws {
        try withUsageErrors { () -> Void in
            guard n > 0, n <= 20_000, `repeat` > 0, `repeat` <= 1000 else {
                throw UsageError(description: "--n takes a side from 1 to 20000, --repeat a count from 1 to 1000")
            }
        }
        print("matmul of two \(n) x \(n) \(float ? "float32" : "float64") matrices; blas: \(BLAS.shared.availability)")
        if float { try time(Float.self) } else { try time(Double.self) }
    }

    private func time<S: FloatingTensorScalar>(_: S.Type) throws {
        let a = Tensor<S>.uniform([n, n], seed: 1, in: -1...1), b = Tensor<S>.uniform([n, n], seed: 2, in: -1...1)
        try a.flush(); try b.flush()
        _ = try a.scalars; _ = try b.scalars
        var best = Double.infinity
        var check = 0.0
        for _ in 0..<`repeat` {
            let before = (Tandem.statistics.blasCalls, Tandem.statistics.tiledProducts)
            let start = ProcessInfoLite.monotonicNanos()
            let c = a.matmul(b)
            let first = try c[0, 0].item()
            let seconds = Double(ProcessInfoLite.monotonicNanos() - start) / 1e9
            best = Swift.min(best, seconds)
            check = Double(first.literal.asDouble)
            let after = (Tandem.statistics.blasCalls, Tandem.statistics.tiledProducts)
            let path = after.0 > before.0 ? "blas" : after.1 > before.1 ? "tiled" : "generated"
            print("  \(format(seconds * 1e3)) ms (\(path)), \(format(2 * Double(n) * Double(n) * Double(n) / seconds / 1e9)) GFLOP/s, c[0, 0] = \(check)")
        }
        print("best \(format(best * 1e3)) ms")
    }

    private func format(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
}
