import ArgumentParser
import FoundationEssentials
import Tandem
import TandemRuntime
import TandemWorkloads

/// Issue 20's experiment: each workload on the CPU alone, on the accelerator alone, split at the
/// model's share, and split at every tenth of the rows, to compare the model's share with the
/// measured best and the split with the best single device.
struct SplitEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split-eval",
        abstract: "Time each workload on cpu, on the accelerator, split at the model's share and at shares 0, 0.1, ... 1.",
        discussion: """
        Every setting runs once to warm up (kernels compiled and loaded), then --repeats timed \
        runs interleaved across settings, each right after an untimed run of its own setting (so \
        data left on the other device by the previous setting is not counted); medians count. The model's share is the rows-weighted \
        mean host share of the kernels it split; the best measured share is the sweep's fastest. \
        Kernels that cannot be cut (whole reductions, one row) run on cpu in every split setting. \
        To give the two devices cores of their own on a CPU-only machine, run with TANDEM_THREADS \
        and POCL_MAX_PTHREAD_COUNT dividing the cores, and a machine profile calibrated that way \
        (TANDEM_CACHE_DIR=<folder> tandem calibrate, same variables).
        """)

    @Option(help: "Timed runs per setting (the median is reported).") var repeats: Int = 5
    @Option(help: "Only these workloads (comma separated).") var workloads: String?
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Print the model's split decisions of each case's last timed run (share, predicted and measured parts).") var records = false

    static let sweep: [(String, [[String: Double]])] = [
        ("black_scholes", [["n": 1_000_000], ["n": 4_000_000]]),
        ("sor", [["n": 512, "max_iterations": 10], ["n": 1024, "max_iterations": 10]]),
        ("red_black_sor", [["n": 512, "iterations": 10]]),
        ("shallow_water", [["n": 256, "steps": 10]]),
        ("nbody", [["n": 1024, "steps": 2]]),
        ("gmm_em", [["n": 50_000, "iterations": 2]]),
    ]

    /// Programs of one splittable kernel a step, beside the workloads (whose largest kernels
    /// are whole reductions, run on the CPU here): Black-Scholes' prices as arrays (the sum
    /// left out), and a three-row smoothing of a grid stored whole row by row.
    static let programs: [(String, [[String: Double]])] = [
        ("prices", [["n": 1_000_000], ["n": 4_000_000]]),
        ("rows3", [["n": 1024, "steps": 10], ["n": 2048, "steps": 10]]),
    ]

    static func program(_ name: String, _ p: [String: Double]) throws -> () throws -> Void {
        let n = Int(p["n"]!)
        switch name {
        case "prices":
            let S = Tensor<Double>.uniform([n], seed: 1, in: 5...30), X = Tensor<Double>.uniform([n], seed: 2, in: 1...100)
            let T = Tensor<Double>.uniform([n], seed: 3, in: 0.25...10)
            try Tandem.flush(S, X, T)
            return {
                let r = 0.02, v = 0.3
                let sqrtT = T.sqrt()
                let d1 = ((S / X).log() + (r + 0.5 * v * v) * T) / (v * sqrtT)
                let d2 = d1 - v * sqrtT
                let cnd1 = 0.5 * (-d1 / 2.0.squareRoot()).erfc(), cnd2 = 0.5 * (-d2 / 2.0.squareRoot()).erfc()
                let expRT = (-r * T).exp()
                let call = S * cnd1 - X * expRT * cnd2
                let put = X * expRT * (1 - cnd2) - S * (1 - cnd1)
                try Tandem.flush(call, put)
                try Tandem.waitForAll()
            }
        default:
            let steps = Int(p["steps"]!)
            var a = Tensor<Double>.uniform([n, n], seed: 4, in: 0...1)
            try Tandem.flush(a)
            return {
                for _ in 0..<steps {
                    var c = a
                    c[1..<(n - 1), 0..<n] = 0.25 * a[0..<(n - 2), 0..<n] + 0.5 * a[1..<(n - 1), 0..<n] + 0.25 * a[2..<n, 0..<n]
                    a = c
                    try Tandem.flush(a)
                }
                try Tandem.waitForAll()
            }
        }
    }

    static let shares = (0...10).map { Double($0) / 10 }

    struct Case: Codable {
        var workload: String
        var params: [String: Double]
        var cpu: Double
        var accelerator: Double
        var modelSplit: Double
        var modelShare: Double?
        var sweep: [Double]
        var bestShare: Double
        var splitKernels: Int
        var unsplitKernels: Int
        var speedupModel: Double { min(cpu, accelerator) / modelSplit }
        var speedupBest: Double { min(cpu, accelerator) / sweep.min()! }
        var shareWithinTenth: Bool? { modelShare.map { abs($0 - bestShare) <= 0.1 + 1e-9 } }
    }

    func run() throws {
        let names = workloads?.split(separator: ",").map(String.init)
        for n in names ?? [] where Workloads.named(n) == nil && !Self.programs.contains(where: { $0.0 == n }) {
            throw UsageError(description: "unknown workload '\(n)'")
        }
        let accelerator: DeviceChoice = Tandem.openCL.availability == .available ? .opencl : .cuda
        guard Tandem.runtime.availability(of: "cpu") == .available else {
            throw ValidationError("split-eval needs compiled C on the CPU: \(Tandem.runtime.availability(of: "cpu"))")
        }
        if case .unavailable(let why) = accelerator == .opencl ? Tandem.openCL.availability : Tandem.cuda.availability {
            throw ValidationError("split-eval needs an accelerator that runs parts of kernels: \(why)")
        }
        _ = Tandem.runtime.costModel      // calibrates first if there is no profile
        let setting = "\(Tandem.runtime.executor.workers) worker(s) for C; \(accelerator.rawValue): "
            + (Tandem.openCL.info.map { "\($0.name), \($0.computeUnits) compute unit(s)" } ?? "-")
        var cases: [Case] = []
        for (name, sizes) in Self.programs + Self.sweep where names == nil || names!.contains(name) {
            for params in sizes {
                let body: () throws -> Void
                if let w = Workloads.named(name) {
                    let prepared = try w.prepare(params, dtype: dtype.dtype)
                    body = { _ = try prepared.run() }
                } else {
                    body = try Self.program(name, params)
                }
                func timed() throws -> Double {
                    let t0 = now()
                    try body()
                    return now() - t0
                }
                // Settings: 0 cpu, 1 accelerator, 2 the model's split, 3... the sweep.
                let settings: [() throws -> Double] = [
                    { try Tandem.withDevice(.cpu) { try timed() } },
                    { try Tandem.withDevice(accelerator) { try timed() } },
                    { try Tandem.withSplit(hostShare: nil) { try timed() } },
                ] + Self.shares.map { s in { try Tandem.withSplit(hostShare: s) { try timed() } } }
                                var times = [[Double]](repeating: [], count: settings.count)
                var rows = 0.0, hostRows = 0.0
                var split = 0, unsplit = 0
                for _ in 0..<repeats {
                    for (i, s) in settings.enumerated() {
                        // Each timed run follows an untimed one of the same setting: the data's
                        // moves from where the previous setting left it are not counted.
                        _ = try s()
                        let before = Tandem.runtime.splitRecords.count, s0 = Tandem.statistics
                        let p0: (hits: Int, misses: Int) = records && i == 2 ? Tandem.openCL.poolCounts() : (0, 0)
                        times[i].append(try s())
                        if records && i == 2 {
                            let p1 = Tandem.openCL.poolCounts(), s1 = Tandem.statistics
                            print("  model run \(format3(times[i].last! * 1e3)) ms: device blocks from the pool \(p1.hits - p0.hits), new \(p1.misses - p0.misses); "
                                  + "copied to the device \(s1.bytesToDevice - s0.bytesToDevice) B, back \(s1.bytesToHost - s0.bytesToHost) B")
                        }
                        if i == 2 {
                            let s1 = Tandem.statistics
                            split += s1.splitKernels - s0.splitKernels
                            unsplit += s1.unsplitKernels - s0.unsplitKernels
                            for r in Tandem.runtime.splitRecords.dropFirst(before) where !r.fixed {
                                rows += Double(r.rows)
                                hostRows += Double(r.hostRows)
                            }
                        }
                    }
                }
                if records && !json {
                    print("  the model's split, each timed run: " + times[2].map { format3($0 * 1e3) }.joined(separator: " ") + " ms")
                    var seen: Set<String> = []
                    for r in Tandem.runtime.splitRecords.reversed() where !r.fixed && seen.insert(r.label).inserted && seen.count <= 4 { print("  \(r)") }
                }
                let medians = times.map { t in t.sorted()[t.count / 2] }
                let sweep = Array(medians[3...])
                cases.append(Case(workload: name, params: params, cpu: medians[0], accelerator: medians[1], modelSplit: medians[2],
                                  modelShare: rows > 0 ? hostRows / rows : nil, sweep: sweep,
                                  bestShare: Self.shares[sweep.indices.min { sweep[$0] < sweep[$1] }!],
                                  splitKernels: split / max(repeats, 1), unsplitKernels: unsplit / max(repeats, 1)))
                if !json { print(line(cases.last!)) }
            }
        }
        let priced = cases.compactMap(\.shareWithinTenth)
        let within = priced.filter { $0 }.count
        if json {
            struct Output: Codable { var setting: String; var accelerator: String; var cases: [Case]; var modelShareWithinTenth: Int; var priced: Int }
            let data = try JSONEncoder().encode(Output(setting: setting, accelerator: accelerator.rawValue, cases: cases, modelShareWithinTenth: within,
                                                       priced: priced.count))
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("setting: \(setting)")
            print("model's share within 0.1 of the measured best: \(within) of \(priced.count) cases")
        }
    }

    func line(_ c: Case) -> String {
        func ms(_ x: Double) -> String { format3(x * 1e3) }
        let params = c.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")
        return "\(c.workload) \(params): cpu \(ms(c.cpu)) ms, accelerator \(ms(c.accelerator)) ms, "
            + "split at the model's share (\(c.modelShare.map { format3($0) } ?? "-")) \(ms(c.modelSplit)) ms (\(format3(c.speedupModel))x the best single), "
            + "sweep best at \(format3(c.bestShare)) \(ms(c.sweep.min()!)) ms (\(format3(c.speedupBest))x); "
            + "sweep " + c.sweep.map(ms).joined(separator: " ") + "; kernels split \(c.splitKernels), whole \(c.unsplitKernels) a run"
    }
}
