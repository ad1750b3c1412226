import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Tandem
import TandemRuntime
import TandemWorkloads

/// The placement experiment of ALPyNA's "Pricing Python Parallelism": every workload over a sweep
/// of sizes, under every forced placement and under `auto`, on the same inputs.
struct PlacementEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement-eval",
        abstract: "Run every workload under every forced placement and under auto; report auto's slowdown against the oracle.",
        discussion: """
        For each workload and size, the inputs are made once; each placement (interpreter, cpu-1, \
        cpu, cuda where available, and auto) runs once to warm up (so every kernel is compiled and \
        loaded: this measures steady-state placement, not first-run compile choices), then \
        --repeats timed runs, interleaved across placements; the median counts. The oracle is the \
        fastest forced placement. auto "hits" the oracle when all its kernels went there, or when it \
        was no slower than the oracle. The model's error is the mean absolute difference between \
        predicted and measured kernel times over all timed runs.
        """)

    @Option(help: "Timed runs per placement (the median is reported).") var repeats: Int = 5
    @Option(help: "Only these workloads (comma separated).") var workloads: String?
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Cold runs: each placement runs in a new process with an empty kernel cache, so compiling is part of the time (the machine profile is kept).") var cold = false
    @Flag(help: "The loop-nest corpus instead (tandem polybench's kernels written with Tandem.loop, mini to medium; times are the kernels' own).") var loops = false

    /// The loop-nest sweep: PolyBench's datasets, without the medium ones of the kernels that
    /// are 80,000 to 120,000 small steps there (seidel-2d's wavefronts, lu's and cholesky's rows:
    /// seconds each on the CPU, minutes in the interpreter).
    static var loopSweep: [(String, [[String: Double]])] {
        PolyBench.kernels.map { k in
            // Forced placements other than the host's run carried nests the array ways (thousands
            // of small kernels; nussinov at mini, 36,000 points one at a time): smaller sizes there.
            let sizes: [PolyBench.Size] = ["floyd-warshall", "nussinov"].contains(k) ? [.mini]
                : ["seidel-2d", "lu", "cholesky"].contains(k) ? [.mini, .small] : [.mini, .small, .medium]
            return (k, sizes.map { size in
                var p = PolyBench.parameters(k, size).mapValues(Double.init)
                p["size"] = Double(PolyBench.Size.allCases.firstIndex(of: size)!)      // 0 mini, 1 small, 2 medium
                return p
            })
        }
    }

    /// The default sweep, tiny (where nothing but the interpreter can pay) to large enough that
    /// all cores pay; capped so the interpreter's runs keep the whole sweep to a few minutes here.
    static let sweep: [(String, [[String: Double]])] = [
        ("black_scholes", [["n": 100], ["n": 10_000], ["n": 1_000_000]]),
        ("sor", [["n": 16, "max_iterations": 20], ["n": 128, "max_iterations": 20], ["n": 512, "max_iterations": 20]]),
        ("red_black_sor", [["n": 16, "iterations": 10], ["n": 128, "iterations": 10], ["n": 512, "iterations": 10]]),
        ("shallow_water", [["n": 16, "steps": 10], ["n": 64, "steps": 10], ["n": 256, "steps": 10]]),
        ("nbody", [["n": 16, "steps": 2], ["n": 256, "steps": 2], ["n": 1024, "steps": 2]]),
        ("gmm_em", [["n": 100, "iterations": 2], ["n": 5000, "iterations": 2], ["n": 50_000, "iterations": 2]]),
    ]

    struct Case: Codable {
        var workload: String
        var params: [String: Double]
        /// Median seconds per placement ("interpreter", "cpu-1", "cpu", "cuda", "auto").
        var seconds: [String: Double]
        var oracle: String
        var oracleSeconds: Double
        /// Kernels auto placed on each option, over its timed runs.
        var autoPlacements: [String: Int]
        var slowdown: Double
        var hit: Bool
    }

    struct Summary: Codable {
        var mean_slowdown: Double
        var max_slowdown: Double
        var oracle_hit_rate: Double
        /// Seconds.
        var mean_abs_prediction_error: Double
        /// |predicted − measured| / measured, averaged over kernels.
        var mean_abs_relative_prediction_error: Double
        var kernels_predicted: Int
        var placements: [String]
        var dtype: String
        var repeats: Int
        /// "warm" (kernels compiled and loaded before timing) or "cold" (new process, empty cache).
        var mode: String
        var machine: String
        var cases: [Case]
    }

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        let names = workloads?.split(separator: ",").map(String.init)
        try withUsageErrors {
            if loops && cold { throw UsageError(description: "--loops runs warm only") }
            for n in names ?? [] where loops ? !PolyBench.kernels.contains(n) : Workloads.named(n) == nil {
                throw UsageError(description: "unknown \(loops ? "kernel" : "workload") '\(n)'")
            }
        }
        var forced: [DeviceChoice] = [.interpreter, .cpu1, .cpu]
        for choice in forced where Tandem.runtime.availability(of: choice == .interpreter ? "interpreter" : "cpu") != .available {
            forced.removeAll { $0 == choice }
        }
        // One accelerator a process: the OpenCL device when there is no usable GPU.
        if Tandem.cuda.availability == .available {
            forced.append(.cuda)
        } else if Tandem.openCL.availability == .available {
            forced.append(.opencl)
        }
        guard forced.contains(.cpu) else {
            throw ValidationError("placement-eval needs compiled C on the CPU: \(Tandem.runtime.availability(of: "cpu"))")
        }
        let choices = forced + [.auto]
        let model = Tandem.runtime.costModel      // calibrates first if there is no profile
        var cases: [Case] = []
        let before = Tandem.statistics
        for (name, sizes) in (loops ? Self.loopSweep : Self.sweep) where names == nil || names!.contains(name) {
            for params in sizes {
                var times: [DeviceChoice: [Double]] = [:]
                var autoPlacements: [String: Int] = [:]
                if cold {
                    for _ in 0..<repeats {
                        for c in choices {
                            let r = try coldRun(name, params, c)
                            times[c, default: []].append(r.seconds)
                            if c == .auto { for (k, v) in r.placements { autoPlacements[k, default: 0] += v } }
                        }
                    }
                } else {
                // One timed run: a workload's whole run, or a loop kernel's own time.
                let timed: () throws -> Double
                if loops {
                    let size = PolyBench.Size.allCases[Int(params["size"]!)]
                    timed = { try PolyBench.run(name, size: size, dtype: dtype.dtype)["seconds"]! }
                } else {
                    let prepared = try Workloads.named(name)!.prepare(params, dtype: dtype.dtype)
                    timed = {
                        let t0 = now()
                        _ = try prepared.run()
                        return now() - t0
                    }
                }
                for c in choices { _ = try Tandem.withDevice(c) { try timed() } }     // warm-up
                for _ in 0..<repeats {
                    for c in choices {
                        let s0 = Tandem.statistics
                        try Tandem.withDevice(c) {
                            times[c, default: []].append(try timed())
                        }
                        if c == .auto {
                            let s1 = Tandem.statistics
                            for (k, v) in s1.kernelsByDevice { autoPlacements[k, default: 0] += v - (s0.kernelsByDevice[k] ?? 0) }
                        }
                    }
                }
                }
                func median(_ c: DeviceChoice) -> Double { let t = times[c]!.sorted(); return t[t.count / 2] }
                let oracle = forced.min { median($0) < median($1) }!
                let autoTime = median(.auto)
                let oraclePlacement = oracle.forcedPlacement!.rawValue
                let onlyOracle = autoPlacements.filter { $0.value > 0 }.keys.allSatisfy { $0 == oraclePlacement }
                let row = Case(workload: name, params: params,
                               seconds: Dictionary(uniqueKeysWithValues: choices.map { ($0.rawValue, median($0)) }),
                               oracle: oraclePlacement, oracleSeconds: median(oracle),
                               autoPlacements: autoPlacements.filter { $0.value > 0 },
                               slowdown: autoTime / median(oracle), hit: onlyOracle || autoTime <= median(oracle))
                cases.append(row)
                if !json {
                    ProcessInfoLite.warn("placement-eval: \(name) \(params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")): oracle \(row.oracle), auto \(format3(row.slowdown))x")
                }
            }
        }
        let after = Tandem.statistics
        let decisions = after.decisions - before.decisions + Self.coldErrors.decisions
        let slowdowns = cases.map(\.slowdown)
        let summary = Summary(
            mean_slowdown: slowdowns.reduce(0, +) / Double(Swift.max(slowdowns.count, 1)),
            max_slowdown: slowdowns.max() ?? 1,
            oracle_hit_rate: Double(cases.filter(\.hit).count) / Double(Swift.max(cases.count, 1)),
            mean_abs_prediction_error: (Double(after.modelAbsErrorNanos - before.modelAbsErrorNanos) / 1e9 + Self.coldErrors.abs) / Double(Swift.max(decisions, 1)),
            mean_abs_relative_prediction_error: (after.modelRelErrorSum - before.modelRelErrorSum + Self.coldErrors.rel) / Double(Swift.max(decisions, 1)),
            kernels_predicted: decisions,
            placements: choices.map(\.rawValue), dtype: dtype.rawValue, repeats: repeats, mode: cold ? "cold" : "warm",
            machine: "\(model.profile.identity.cpuModel), \(model.profile.identity.workers) workers", cases: cases)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(table(summary, forced: forced))
        }
    }

    /// The part of `tandem run --json` a cold run reads.
    struct RunOutput: Decodable {
        var seconds: Double
        var placements: [String: Int]
        var decisions: Int
        var model_abs_error_seconds: Double
        var model_rel_error_sum: Double
    }

    /// Model error gathered from the cold runs' processes.
    final class ColdErrors: @unchecked Sendable {
        var decisions = 0, abs = 0.0, rel = 0.0
    }
    static let coldErrors = ColdErrors()

    /// One run of `tandem run` in a new process whose kernel cache holds only the machine profile.
    func coldRun(_ workload: String, _ params: [String: Double], _ choice: DeviceChoice) throws -> (seconds: Double, placements: [String: Int]) {
        let dir = "/tmp/tandem-cold-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o700)
        defer { _ = Subprocess.run(["/bin/rm", "-rf", dir]) }
        if let profile = ProcessInfoLite.contents(of: Calibration.profilePath) {
            ProcessInfoLite.write(profile, to: dir + "/machine-profile.json")
        }
        guard let exe = ProcessInfoLite.executablePath else { throw ValidationError("cannot find this executable for the cold runs") }
        let argv = ["/usr/bin/env", "TANDEM_CACHE_DIR=\(dir)", "TANDEM_DEVICE=\(choice.rawValue)", exe,
                    "run", workload, "--dtype", dtype.rawValue, "--json"] + params.map { "\($0.key)=\(JSON.number($0.value))" }
        guard case .success(let r) = Subprocess.run(argv), r.status == 0,
              let line = r.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONDecoder().decode(RunOutput.self, from: Data(line.utf8)) else {
            throw ValidationError("a cold run of \(workload) on \(choice.rawValue) failed")
        }
        Self.coldErrors.decisions += object.decisions
        Self.coldErrors.abs += object.model_abs_error_seconds
        Self.coldErrors.rel += object.model_rel_error_sum
        return (object.seconds, object.placements)
    }

    func table(_ s: Summary, forced: [DeviceChoice]) -> String {
        func ms(_ x: Double) -> String { format3(x * 1e3) }
        var lines = ["| workload | params | " + forced.map { "\($0.rawValue) ms" }.joined(separator: " | ") + " | auto ms | oracle | auto placed | slowdown |",
                     "|---|---|" + String(repeating: "---:|", count: forced.count) + "---:|---|---|---:|"]
        for c in s.cases {
            let params = c.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")
            let placed = c.autoPlacements.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("| \(c.workload) | \(params) | " + forced.map { ms(c.seconds[$0.rawValue]!) }.joined(separator: " | ")
                         + " | \(ms(c.seconds["auto"]!)) | \(c.oracle) | \(placed) | \(format3(c.slowdown)) |")
        }
        lines.append("")
        lines.append("mean slowdown \(format3(s.mean_slowdown)), max \(format3(s.max_slowdown)), oracle hit rate \(format3(s.oracle_hit_rate)), "
                     + "model error: mean |predicted − measured| \(CostModel.format(s.mean_abs_prediction_error)) per kernel "
                     + "(\(format3(s.mean_abs_relative_prediction_error * 100)) % relative) over \(s.kernels_predicted) kernels")
        return lines.joined(separator: "\n")
    }
}
