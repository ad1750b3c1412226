import ArgumentParser
import Tandem
import TandemRuntime

/// `tandem overhead`: the ordinary loop that prints a loss or checks convergence every
/// iteration, `x = x * 0.5 + 1` on a small vector with a read each time, timed per iteration at
/// several iteration counts. The time per iteration must not grow with the count (a read keeps
/// what it computed); `bench/micro/overhead.py` is NumPy's side.
struct Overhead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Time a small update-and-read loop per iteration at several iteration counts.")

    @Option(help: "Iteration counts, comma separated.") var iterations = "100,1000,10000"
    @Option(help: "Elements of the vector.") var n = 1000
    @Option(help: "What each iteration reads: sum, element or none (one read at the end).") var read = "sum"

    func run() throws {
        let counts = try withUsageErrors { () -> [Int] in
            let c = iterations.split(separator: ",").compactMap { Int($0) }
            guard !c.isEmpty, c.allSatisfy({ $0 > 0 && $0 <= 10_000_000 }), n > 0, n <= 100_000_000 else {
                throw UsageError(description: "--iterations takes positive whole numbers, --n a positive size")
            }
            guard ["sum", "element", "none"].contains(read) else { throw UsageError(description: "--read is sum, element or none") }
            return c
        }
        print("x = x * 0.5 + 1 on \(n) doubles, read: \(read)")
        for count in counts {
            var x = Tensor<Double>.uniform([n], seed: 1, in: 0...1)
            try x.flush()
            Tandem.resetStatistics()
            let start = now()
            var last = 0.0
            for _ in 0..<count {
                x = x * 0.5 + 1
                switch read {
                case "sum": last = try x.sum().item()
                case "element": last = try x[0].item()
                default: break
                }
            }
            if read == "none" { last = try x.sum().item() }
            let seconds = now() - start
            let s = Tandem.statistics
            print("  \(count) iterations: \(format(seconds / Double(count) * 1e6)) µs an iteration, planning \(format(Double(s.planNanos) / 1e3 / Double(count))) µs an iteration (\(s.planNodes) nodes, plan cache hits \(s.planCacheHits) of \(s.plans)), kernels \(s.kernelsRun), last \(last)")
        }
    }

    private func format(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
    private func now() -> Double { Double(ProcessInfoLite.monotonicNanos()) / 1e9 }
}
