import ArgumentParser
import Tandem
import TandemRuntime

/// `tandem host-ops`: the functions computed on the host rather than by kernels (sort,
/// argsort, percentile, cumsum, histogram, bincount, scatter and scatter-add, take), timed on `n` elements of each
/// dtype, the input computed before the clock starts. `bench/micro/host_ops.py` is NumPy's side.
struct HostOps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host-ops", abstract: "Time the host-side functions (sort, cumsum, percentile, bincount...) on n elements.",
        shouldDisplay: false)

    @Option(help: "Elements.") var n = 1_000_000
    @Option(help: "Timed runs (the best is reported).") var repeats = 3

    func best(_ body: () throws -> Void) rethrows -> Double {
        var t = Double.infinity
        for _ in 0..<repeats {
            let s = ProcessInfoLite.monotonicNanos()
            try body()
            t = Swift.min(t, Double(ProcessInfoLite.monotonicNanos() - s) / 1e9)
        }
        return t
    }

    func run() throws {
        let x = Tensor<Double>.uniform([n], seed: 3, in: -1...1)
        let f = Tensor<Float>(x)
        let codes = Tensor<Int64>(x * 100 + 100)
        let small = Tensor<UInt8>(x * 100 + 100)
        let positions = Tensor<Int64>((x + 1) * 0.5 * Double(n - 1))
        try Tandem.waitForAll()
        _ = try x.scalars; _ = try f.scalars; _ = try codes.scalars; _ = try small.scalars; _ = try positions.scalars
        let rows: [(String, () throws -> Void)] = [
            ("sorted f64", { _ = try x.sorted().scalars }),
            ("sorted f32", { _ = try f.sorted().scalars }),
            ("sorted i64", { _ = try codes.sorted().scalars }),
            ("argsort f64", { _ = try x.argsort().scalars }),
            ("percentile f64", { _ = try x.percentile(90).scalars }),
            ("cumsum f64", { _ = try x.cumsum().scalars }),
            ("cumsum i64", { _ = try codes.cumsum().scalars }),
            ("histogram f64", { _ = try x.histogram(bins: 50).counts.scalars }),
            ("bincount i64", { _ = try codes.bincount().scalars }),
            ("bincount u8", { _ = try small.bincount().scalars }),
            ("add(at:) f64", { var y = Tensor<Double>.zeros([n]); try y.add(at: positions, x); _ = try y.scalars }),
            ("x[idx] = v f64", { var y = Tensor<Double>.zeros([n]); y[positions] = x; _ = try y.scalars }),
            ("take f64", { _ = try x.take(positions).scalars }),
            ("x[mask] f64", { _ = try x.elements(where: x .> 0.0).scalars }),
            ("nonzero", { _ = try (x .> 0.0).nonzero()[0].scalars }),

        ]
        for (name, body) in rows {
            let t = try best(body)
            print(name + String(repeating: " ", count: Swift.max(1, 16 - name.count)) + "\((t * 1e4).rounded() / 1e4) s")
        }
    }
}
