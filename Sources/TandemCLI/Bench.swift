import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemRuntime
import TandemWorkloads

/// Benchmark sizes. Medium is the issue's table; small is `expected.json`'s small cases.
enum SizeOption: String, ExpressibleByArgument, CaseIterable {
    case small, medium, large

    func parameters(_ workload: String) -> [String: Double] {
        switch (self, workload) {
        case (.small, "black_scholes"): ["n": 1000, "iterations": 1]
        case (.small, "sor"): ["n": 30, "max_iterations": 1000, "epsilon": 0.001]
        case (.small, "red_black_sor"): ["n": 31, "iterations": 10]
        case (.small, "shallow_water"): ["n": 20, "steps": 10]
        case (.small, "nbody"): ["n": 100, "steps": 3]
        case (.small, "gmm_em"): ["n": 1000, "d": 3, "k": 4, "iterations": 3]
        case (.medium, "black_scholes"): ["n": 10_000_000, "iterations": 4]
        case (.medium, "sor"): ["n": 2048, "max_iterations": 100]
        case (.medium, "red_black_sor"): ["n": 2048, "iterations": 100]
        case (.medium, "shallow_water"): ["n": 2048, "steps": 50]
        case (.medium, "nbody"): ["n": 8192, "steps": 4]
        case (.medium, "gmm_em"): ["n": 1_000_000, "d": 8, "k": 16, "iterations": 5]
        case (.large, "black_scholes"): ["n": 20_000_000, "iterations": 4]
        case (.large, "sor"): ["n": 2896, "max_iterations": 100]
        case (.large, "red_black_sor"): ["n": 2896, "iterations": 100]
        case (.large, "shallow_water"): ["n": 2896, "steps": 50]
        case (.large, "nbody"): ["n": 8192, "steps": 8]
        case (.large, "gmm_em"): ["n": 2_000_000, "d": 8, "k": 16, "iterations": 5]
        default: [:]
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every standard workload (warm-up, then the median of several runs), check every output, print one table.")

    @Option(help: "small, medium or large.") var size: SizeOption = .medium
    @Option(help: "Element types, comma separated: f64, f32.") var dtype: String = "f64"
    @Option(help: "Timed runs per workload (the median is reported).") var repeats: Int = 3
    @Option(help: "Only these workloads (comma separated).") var workloads: String?
    @Flag(help: "Also run the NumPy, numexpr, Numba and JAX peers (bench/peers/run_peers.py) in the same run.") var peers = false
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(inversion: .prefixedNo, help: "Measure memory bandwidth and report the fraction memory-bound workloads reach.") var memory = true
    @Flag(help: "Run the distributed workloads over the ranks of an MPI job (mpirun -n 2 tandem bench --distributed) and report each rank's compute, communication and wait time.")
    var distributed = false

    struct Row: Codable {
        var workload: String
        var dtype: String
        var params: [String: Double]
        var seconds: Double
        var compileSeconds: Double
        var kernels: Int
        var opsFused: Int
        var bytesMoved: Int
        var check: String
        var outputs: [String: Double]
        var peers: [String: Double] = [:]
        /// The devices the timed runs' kernels actually ran on (from the statistics), e.g. "cpu".
        var device: String = ""
        var mustMoveBytes: Double?
        var bandwidthFraction: Double?
        /// Lagged passes (several kernels in one pass over their rows, `Lagging`) in one timed run.
        var laggedPasses = 0
    }

    func run() throws {
        if distributed { Run.shareCoresAmongRanks() }
        let types = try withUsageErrors { () -> [DTypeOption] in
            try dtype.split(separator: ",").map {
                guard let t = DTypeOption(rawValue: String($0)) else { throw UsageError(description: "unknown dtype '\($0)'; use f32 or f64") }
                return t
            }
        }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        if distributed { return try runDistributedBench(types) }
        let selected = try withUsageErrors { () -> [Workload] in
            guard let names = workloads?.split(separator: ",").map(String.init) else { return Workloads.all }
            return try names.map { n in
                guard let w = Workloads.named(n) else { throw UsageError(description: "unknown workload '\(n)'") }
                return w
            }
        }
        var rows: [Row] = []
        var failed = false
        if let asked = ProcessInfoLite.environment("TANDEM_DEVICE"), DeviceChoice(rawValue: asked.lowercased()) == nil {
            // Said once, and every row names the device its kernels really ran on.
            ProcessInfoLite.warn("bench: TANDEM_DEVICE=\(asked) is not a placement the runtime knows yet (\(DeviceChoice.allCases.map(\.rawValue).joined(separator: ", "))); kernels run on the default device")
        }
        for t in types {
            var peerTimes: [String: [String: Double]] = [:]
            var peerNote = ""
            if peers { (peerTimes, peerNote) = runPeers(t, selected.map(\.name)) }
            for w in selected {
                let params = size.parameters(w.name)
                var full: [String: Double] = [:]
                for p in w.parameters { full[p.name] = params[p.name] ?? p.defaultValue }
                let prepared = try w.prepare(params, dtype: t.dtype)
                let before = Tandem.statistics
                let warmStart = now()
                _ = try prepared.run()
                let warm = now() - warmStart
                let compile = Double(Tandem.statistics.compileNanos - before.compileNanos) / 1e9
                var times: [Double] = []
                var outputs: [String: Double] = [:]
                var stats = Tandem.statistics
                let devicesBefore = Tandem.statistics.kernelsByDevice
                for _ in 0..<repeats {
                    let s0 = Tandem.statistics
                    let start = now()
                    outputs = try prepared.run()
                    times.append(now() - start)
                    let s1 = Tandem.statistics
                    stats.kernelsRun = s1.kernelsRun - s0.kernelsRun
                    stats.opsFused = s1.opsFused - s0.opsFused
                    stats.bytesMoved = s1.bytesMoved - s0.bytesMoved
                    stats.laggedPasses = s1.laggedPasses - s0.laggedPasses
                }
                times.sort()
                let median = times[times.count / 2]
                let ran = Tandem.statistics.kernelsByDevice.filter { $0.value > (devicesBefore[$0.key] ?? 0) }.keys.sorted().joined(separator: "+")
                var check = "no reference"
                if let want = Reference.outputs(w.name, full) ?? PythonReference.outputs(w.name, full) {
                    let bad = want.filter { k, v in !t.agrees(outputs[k] ?? .nan, v) }
                    check = bad.isEmpty ? "pass" : "FAIL " + bad.keys.sorted().map { "\($0)=\(outputs[$0] ?? .nan) want \(want[$0]!)" }.joined(separator: ", ")
                    if !bad.isEmpty { failed = true }
                }
                rows.append(Row(workload: w.name, dtype: t.rawValue, params: full, seconds: median,
                                compileSeconds: Swift.max(0, Swift.min(compile, warm - median)),
                                kernels: stats.kernelsRun, opsFused: stats.opsFused, bytesMoved: stats.bytesMoved,
                                check: check, outputs: outputs, peers: peerTimes[w.name] ?? [:], device: ran,
                                laggedPasses: stats.laggedPasses))
                if !json { ProcessInfoLite.warn("bench: \(w.name) \(t.rawValue) \(format3(median)) s (\(check))") }
            }
            if !peerNote.isEmpty && !json { print(peerNote) }
        }
        var bandwidth: Bandwidth.Result? = nil
        if memory {
            bandwidth = try Bandwidth.measure()
            for i in rows.indices {
                let elementBytes = rows[i].dtype == "f32" ? 4.0 : 8.0
                if let bytes = Bandwidth.mustMove(rows[i].workload, rows[i].params, elementBytes: elementBytes) {
                    rows[i].mustMoveBytes = bytes
                    rows[i].bandwidthFraction = bytes / rows[i].seconds / 1e9 / bandwidth!.machineGBs
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let machine = Machine.current
            struct Out: Codable { var size: String; var machine: Machine; var rows: [Row]; var machineGBs: Double?; var fusedKernelGBs: Double? }
            print(String(decoding: try encoder.encode(Out(size: size.rawValue, machine: machine, rows: rows,
                                                          machineGBs: bandwidth?.machineGBs, fusedKernelGBs: bandwidth?.tandemGBs)), as: UTF8.self))
        } else {
            print(table(rows))
            if let bandwidth {
                print("memory bandwidth: machine \(format2(bandwidth.machineGBs)) GB/s (parallel copy), fused Tandem kernel on 10^7 doubles \(format2(bandwidth.tandemGBs)) GB/s (\(Int((100 * bandwidth.tandemGBs / bandwidth.machineGBs).rounded()))%)")
                for r in rows { if let b = r.mustMoveBytes, let f = r.bandwidthFraction {
                    if r.laggedPasses > 0 {
                        // Several sweeps shared each pass over the data: it moved less than one
                        // pass a sweep or step would, so the fraction says nothing about it.
                        print("  \(r.workload) \(r.dtype): one pass a sweep or step would move \(format2(b / 1e9)) GB; Tandem ran \(r.laggedPasses) lagged passes of several sweeps each and moved less (not bound by memory)")
                    } else {
                        print("  \(r.workload) \(r.dtype): must move \(format2(b / 1e9)) GB, reaches \(Int((100 * f).rounded()))% of the machine's bandwidth")
                    }
                } }
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// Runs the Python peers in this same process tree and returns their times per workload.
    func runPeers(_ t: DTypeOption, _ names: [String]) -> ([String: [String: Double]], String) {
        let command: [String]
        switch PackageFiles.python("bench/peers/run_peers.py") {
        case .success(let c): command = c
        case .failure(let e): return ([:], "peers: " + e.why)
        }
        let argv = command + ["--size", size.rawValue, "--dtype", t.rawValue, "--repeats", String(repeats),
                    "--workloads", names.joined(separator: ","), "--json"]
        ProcessInfoLite.warn("bench: running peers: \(argv.joined(separator: " "))")
        guard case .success(let r) = Subprocess.run(argv) else { return ([:], "peers: could not start python3") }
        guard let start = r.output.firstIndex(of: "{"), let data = String(r.output[start...]).data(using: .utf8),
              let decoded = try? JSONDecoder().decode(PeerReport.self, from: data) else {
            return ([:], "peers: could not read the peers' output:\n" + r.output.suffix(2000))
        }
        var out: [String: [String: Double]] = [:]
        for row in decoded.results where row.check == "pass" {
            if let s = row.seconds { out[row.workload, default: [:]][row.peer] = s }
        }
        let failedChecks = decoded.results.filter { $0.check == "fail" }.map { "\($0.peer)/\($0.workload)" }
        var note = ""
        if !decoded.missing.isEmpty {
            note += "peers missing: " + decoded.missing.map { "\($0.peer) (\($0.install ?? "see bench/peers/README.md"))" }.joined(separator: ", ") + "\n"
        }
        if !failedChecks.isEmpty { note += "peers failing their check (not timed): " + failedChecks.joined(separator: ", ") + "\n" }
        return (out, note)
    }

    struct PeerReport: Decodable {
        struct Result: Decodable {
            var peer: String
            var workload: String
            var seconds: Double?
            var check: String?
        }
        struct Missing: Decodable {
            var peer: String
            var install: String?
        }
        var results: [Result]
        var missing: [Missing]
    }

    func table(_ rows: [Row]) -> String {
        let peerNames = ["numpy", "numexpr", "numba", "jax"].filter { p in rows.contains { $0.peers[p] != nil } }
        var header = ["workload", "dtype", "device", "tandem s", "kernels", "check"]
        for p in peerNames { header.append("\(p) s (x)") }
        if !peerNames.isEmpty { header.append("vs fastest peer") }
        var lines = [header]
        for r in rows {
            var cells = [r.workload, r.dtype, r.device, format3(r.seconds), String(r.kernels), r.check]
            for p in peerNames {
                if let s = r.peers[p] { cells.append("\(format3(s)) (\(format2(s / r.seconds))x)") } else { cells.append("-") }
            }
            if !peerNames.isEmpty {
                let best = peerNames.compactMap { r.peers[$0] }.min()
                cells.append(best.map { "\(format2($0 / r.seconds))x" } ?? "-")
            }
            lines.append(cells)
        }
        let widths = (0..<header.count).map { c in lines.map { $0[c].count }.max()! }
        return lines.enumerated().map { i, row in
            let line = row.enumerated().map { c, cell in cell + String(repeating: " ", count: widths[c] - cell.count) }.joined(separator: "  ")
            return i == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n") + "\n(x = peer time / Tandem time: above 1 means Tandem is faster)"
    }
}

func format2(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }

struct Machine: Codable {
    var cpu: String
    var cores: Int
    var compiler: String

    static var current: Machine {
        let text = String(decoding: ProcessInfoLite.contents(of: "/proc/cpuinfo") ?? [], as: UTF8.self)
        let model = text.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String(($0.split(separator: ":", maxSplits: 1).last ?? "").drop { $0 == " " }) } ?? "unknown"
        let compiler = (try? Tandem.cpu.toolchain.get().identity) ?? "none"
        return Machine(cpu: model, cores: ProcessInfoLite.cores, compiler: compiler)
    }
}
