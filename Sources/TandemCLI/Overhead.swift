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
    @Option(help: "Instead: write a reduction into each of this many rows, out[i, :] = x[i].sum(axis: 1) with x of shape [rows, 64, 16], and report the bytes moved.")
    var rows: Int? = nil

    func run() throws {
        let counts = try withUsageErrors { () -> [Int] in
            let c = iterations.split(separator: ",").compactMap { Int($0) }
            guard !c.isEmpty, c.allSatisfy({ $0 > 0 && $0 <= 10_000_000 }), n > 0, n <= 100_000_000 else {
                throw UsageError(description: "--iterations takes positive whole numbers, --n a positive size")
            }
            guard ["sum", "element", "none"].contains(read) else { throw UsageError(description: "--read is sum, element or none") }
            return c
        }
        if let rows {
            try withUsageErrors { () -> Void in
                guard rows > 0, rows <= 1_000_000 else { throw UsageError(description: "--rows takes a positive count up to 1000000") }
            }
            try rowWrites(rows)
            return
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

    /// The loop of row writes: each row's reduction should be stored straight into `out`, in
    /// place, so the bytes moved are about x's and the time linear in the rows.
    private func rowWrites(_ rows: Int) throws {
        print("out[i, :] = x[i].sum(axis: 1), x of shape [\(rows), 64, 16], \(rows) rows")
        for _ in 0..<2 {
            let x = Tensor<Double>.uniform([rows, 64, 16], seed: 1, in: 0...1)
            var out = Tensor<Double>.zeros([rows, 64])
            try x.flush(); try out.flush()
            Tandem.resetStatistics()
            let start = now()
            for i in 0..<rows { out[i, .all] = x[i].sum(axis: 1) }
            let total = try out.sum().item()
            let seconds = now() - start
            let s = Tandem.statistics
            print("  \(format(seconds * 1e3)) ms, \(s.bytesMoved) bytes moved (x is \(rows * 64 * 16 * 8)), updates in place \(s.inPlaceUpdates), fresh \(s.freshUpdates), copied \(s.copiedUpdates), total \(total)")
        }
    }

    private func format(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
    private func now() -> Double { Double(ProcessInfoLite.monotonicNanos()) / 1e9 }
}
