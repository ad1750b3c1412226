#if canImport(Glibc)
import Glibc
#endif
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
    @Option(help: "Instead: a soak of this many syncs of a small stencil loop (a row write, a reduction read and an element read each step); prints resident memory as it goes and exits 1 if it grows by more than 16 MiB after the first tenth.")
    var soak: Int? = nil
    @Flag(help: "Instead: the time of a Tandem.loop call, a recurrence compiled as written (y[i] = y[i - 1] * 0.5 + x[i]) and a sweep run as arrays (b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3), on --n doubles, --iterations calls each.")
    var loops = false

    func run() throws {
        let counts = try withUsageErrors { () -> [Int] in
            let c = iterations.split(separator: ",").compactMap { Int($0) }
            guard !c.isEmpty, c.allSatisfy({ $0 > 0 && $0 <= 10_000_000 }), n > 0, n <= 100_000_000 else {
                throw UsageError(description: "--iterations takes positive whole numbers, --n a positive size")
            }
            guard ["sum", "element", "none"].contains(read) else { throw UsageError(description: "--read is sum, element or none") }
            return c
        }
        if let soak {
            try withUsageErrors { () -> Void in
                guard soak >= 100, soak <= 10_000_000 else { throw UsageError(description: "--soak takes a count of syncs from 100 to 10000000") }
            }
            try soakRun(soak)
            return
        }
        if let rows {
            try withUsageErrors { () -> Void in
                guard rows > 0, rows <= 1_000_000 else { throw UsageError(description: "--rows takes a positive count up to 1000000") }
            }
            try rowWrites(rows)
            return
        }
        if loops {
            try loopCalls(counts)
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

    /// The cost of a `Tandem.loop` call (tracing, analysis, choice, and the run) on small data,
    /// for a nest compiled as written and for one run as array kernels.
    private func loopCalls(_ counts: [Int]) throws {
        let n = self.n
        print("Tandem.loop calls on \(n) doubles")
        for count in counts {
            let x = Tensor<Double>.uniform([n], seed: 1, in: 0...1)
            var y = Tensor<Double>.zeros([n]), a = x, b = Tensor<Double>.zeros([n])
            try x.flush()
            let before = Tandem.loopStatistics
            var start = now()
            for _ in 0..<count { Tandem.loop(1..<n) { i in y[i] = y[i - 1] * 0.5 + x[i] } }
            var last = try y.sum().item()
            let compiled = (now() - start) / Double(count)
            let mid = Tandem.loopStatistics
            start = now()
            for _ in 0..<count {
                Tandem.loop(1..<n - 1) { i in b[i] = (a[i - 1] + a[i] + a[i + 1]) / 3 }
                swap(&a, &b)
            }
            last += try a.sum().item()
            let arrays = (now() - start) / Double(count)
            let after = Tandem.loopStatistics
            print("  \(count) calls: compiled recurrence \(format(compiled * 1e6)) µs a call (\(mid.compiled - before.compiled) compiled), "
                  + "array sweep \(format(arrays * 1e6)) µs a call (\(after.vectorised - mid.vectorised) as arrays), last \(last)")
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

    /// Resident memory of this process in MiB (`/proc/self/statm`), nil where there is none.
    static func residentMiB() -> Double? {
        guard let bytes = ProcessInfoLite.contents(of: "/proc/self/statm") else { return nil }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1048576
    }

    /// `syncs` syncs of a small heat-equation loop: each step a stencil written into the
    /// interior, a boundary row written, the sum read, and every other step one element read.
    /// Memory must stay flat once the first tenth has warmed the caches and pools.
    private func soakRun(_ syncs: Int) throws {
        let n = self.n == 1000 ? 32 : self.n
        var u = Tensor<Double>.uniform([n, n], seed: 5, in: 0...1)
        try u.flush()
        let warm = Swift.max(1, syncs / 10)
        var baseline: Double? = nil, peak = 0.0, done = 0, last = 0.0
        let step = Swift.max(1, syncs / 10)
        var report = step
        let start = now()
        print("soak: \(syncs) syncs of a \(n) x \(n) stencil loop")
        while done < syncs {
            let c = u[1..<(n - 1), 1..<(n - 1)]
            u[1..<(n - 1), 1..<(n - 1)] = c + 0.1 * (u[0..<(n - 2), 1..<(n - 1)] + u[2..<n, 1..<(n - 1)]
                                                   + u[1..<(n - 1), 0..<(n - 2)] + u[1..<(n - 1), 2..<n] - 4 * c)
            u[0, .all] = Tensor(1.0)
            last = try u.sum().item()
            done += 1
            if done % 2 == 0 && done < syncs {
                last += try u[n / 2, n / 2].item() * 0
                done += 1
            }
            if done >= warm, baseline == nil { baseline = Overhead.residentMiB() }
            if let r = Overhead.residentMiB(), baseline != nil { peak = Swift.max(peak, r) }
            if done >= report || done >= syncs {
                report += step
                print("  \(done) syncs: resident \(format(Overhead.residentMiB() ?? 0)) MiB, \(format((now() - start) / Double(done) * 1e6)) µs a sync")
            }
        }
        let growth = peak - (baseline ?? peak)
        print("resident memory after the first tenth: \(format(baseline ?? 0)) MiB, highest after: \(format(peak)) MiB, growth \(format(growth)) MiB; last sum \(last)")
        if growth > 16 {
            ProcessInfoLite.warn("tandem: the soak's resident memory grew by \(format(growth)) MiB after warming up")
            throw ExitCode(1)
        }
    }

    private func format(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
    private func now() -> Double { Double(ProcessInfoLite.monotonicNanos()) / 1e9 }
}
