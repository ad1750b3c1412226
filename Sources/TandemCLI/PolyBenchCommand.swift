import ArgumentParser
import Tandem
import TandemRuntime
import TandemWorkloads

/// `tandem polybench`: PolyBench kernels written with `Tandem.loop`, timed beside NumPy.
struct PolyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "polybench",
        abstract: "Run PolyBench kernels written as Swift loop nests (Tandem.loop), with NumPy and Numba beside them.",
        discussion: """
            Kernels: \(PolyBench.kernels.joined(separator: ", ")). Sizes are PolyBench 4.2.1's datasets. \
            --check compares the outputs with NumPy's values built in for the mini and small sizes; --peers \
            runs bench/polybench/polybench.py (NumPy) and bench/polybench/polybench_numba.py (Numba, parallel, \
            when installed) at the same size in the same run. Times are the best of \
            --repeats runs of the kernel alone (initialised inputs to computed output); each line says how the \
            nests ran (arrays, loops run one iteration at a time, wavefronts, single points, compiled loops).
            """)

    @Option(help: "mini, small, medium or large.") var size = "mini"
    @Option(help: "Comma-separated kernels (default: all).") var kernels: String?
    @Option(help: "Runs of each kernel; the best is reported.") var repeats = 3
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Flag(help: "Compare with NumPy's built-in values (mini and small); exit 1 on a mismatch.") var check = false
    @Flag(help: "Run the NumPy and Numba versions (bench/polybench/) at the same size.") var peers = false
    @Flag(help: "Print JSON.") var json = false

    /// NumPy's outputs (`bench/polybench/polybench.py`), kernel → size → (checksum, corner).
    static let expected: [String: [String: (Double, Double)]] = [
        "gemm": ["mini": (4365.0, 0.06), "small": (109987.875, 0.02)],
        "2mm": ["mini": (17079.477272727276, 6.740234375), "small": (1689742.377857143, 27.953203125000005)],
        "syrk": ["mini": (3330.766666666667, 0.15333333333333332), "small": (69873.403125, 0.054062500000000006)],
        "gesummv": ["mini": (547.725, 1.8850000000000002), "small": (5182.725, 1.9283333333333332)],
        "atax": ["mini": (1151.8518421052634, 24.43298245614035), "small": (29815.687758620697, 223.07025862068969)],
        "bicg": ["mini": (719.2299498746867, 13.503968253968253), "small": (7008.786985539488, 40.83467741935485)],
        "mvt": ["mini": (739.25, 0.0), "small": (6850.75, 0.0)],
        "doitgen": ["mini": (1971.0, 0.0), "small": (93115.0, 0.0)],
        "trisolv": ["mini": (12.365172214194999, 0.0), "small": (37.650878198867424, 0.0)],
        "lu": ["mini": (1106.0, 1.0), "small": (9719.333333333334, 1.0)],
        "cholesky": ["mini": (7296.12875, 1.0), "small": (180689.4595833333, 1.0)],
        "covariance": ["mini": (16038.0, 0.0), "small": (1313210.4166666665, 0.0)],
        "correlation": ["mini": (784.0, 1.0), "small": (6400.0, 1.0)],
        "jacobi-1d": ["mini": (16.622753795581623, 0.06666666666666667), "small": (61.50059792711305, 0.016666666666666666)],
        "jacobi-2d": ["mini": (7311.598061091434, 0.06666666666666667), "small": (186764.3068884507, 0.022222222222222223)],
        "heat-3d": ["mini": (14500.0, 10.0), "small": (118000.0, 10.0)],
        "fdtd-2d": ["mini": (6839.525179632956, 20.65661528184171), "small": (83737.83342234412, 42.65246975013752)],
        "seidel-2d": ["mini": (16850.0, 0.05), "small": (439350.0, 0.016666666666666666)],
        "floyd-warshall": ["mini": (6594.0, 2.0), "small": (59360.0, 2.0)],
        "nussinov": ["mini": (16254.0, 0.0), "small": (469964.0, 0.0)],
        "durbin": ["mini": (-1.0398412758009046, 0.3146541388894406), "small": (-1.0090643901512588, 0.45603903244247423)],
    ]
    /// The same in float32 (`--dtype f32`).
    static let expected32: [String: [String: (Double, Double)]] = [
        "gemm": ["mini": (4365.000079035759, 0.06000000238418579), "small": (109987.87664106116, 0.020000001415610313)],
        "2mm": ["mini": (17079.477582216263, 6.740234375), "small": (1689742.3558028936, 27.953205108642578)],
        "syrk": ["mini": (3330.7665940746665, 0.15333333611488342), "small": (69873.40217627771, 0.05406249687075615)],
        "gesummv": ["mini": (547.7250202894211, 1.8850001096725464), "small": (5182.725120663643, 1.9283334016799927)],
        "atax": ["mini": (1151.8518447875977, 24.432981491088867), "small": (29815.68785095215, 223.07025146484375)],
        "bicg": ["mini": (719.2299652099609, 13.503968238830566), "small": (7008.786935806274, 40.834678649902344)],
        "mvt": ["mini": (739.2500099185854, 0.0), "small": (6850.750028737821, 0.0)],
        "doitgen": ["mini": (1970.999992132187, 0.0), "small": (93115.00094246864, 0.0)],
        "trisolv": ["mini": (12.365169882774353, 0.0), "small": (37.650881722569466, 0.0)],
        "lu": ["mini": (1105.9999959878623, 1.0), "small": (9719.333691120148, 1.0)],
        "cholesky": ["mini": (7296.128751337528, 1.0), "small": (180689.45968668163, 1.0)],
        "covariance": ["mini": (16038.000130094588, 0.0), "small": (1313210.4108431786, 0.0)],
        "correlation": ["mini": (784.0001221895218, 1.0), "small": (6400.000556349754, 1.0)],
        "jacobi-1d": ["mini": (16.622763119637966, 0.06666667014360428), "small": (61.5006745737046, 0.01666666753590107)],
        "jacobi-2d": ["mini": (7311.602118223906, 0.06666667014360428), "small": (186764.47933536023, 0.02222222276031971)],
        "heat-3d": ["mini": (14500.0, 10.0), "small": (118000.0, 10.0)],
        "fdtd-2d": ["mini": (6839.525155425072, 20.6566162109375), "small": (83737.83389098197, 42.652469635009766)],
        "seidel-2d": ["mini": (16850.000528536737, 0.05000000074505806), "small": (439349.99641421065, 0.01666666753590107)],
        "floyd-warshall": ["mini": (6594.0, 2.0), "small": (59360.0, 2.0)],
        "nussinov": ["mini": (16254.0, 0.0), "small": (469964.0, 0.0)],
        "durbin": ["mini": (-1.0398671999573708, 0.31447386741638184), "small": (-1.009175706654787, 0.4528752565383911)],
    ]
    /// Relative tolerances of --check: float64 against NumPy's float64, float32 against its float32.
    static func tolerance(_ d: DTypeOption) -> Double { d == .f32 ? 1e-4 : 1e-9 }

    func run() throws {
        guard let s = PolyBench.Size(rawValue: size) else { throw ValidationError("size must be mini, small, medium or large") }
        let names = kernels.map { $0.split(separator: ",").map(String.init) } ?? PolyBench.kernels
        for k in names where !PolyBench.kernels.contains(k) {
            throw ValidationError("unknown kernel \(k); kernels: \(PolyBench.kernels.joined(separator: ", "))")
        }
        var rows: [[String: Any]] = []
        var failed = false
        for k in names {
            var best = Double.infinity
            var out: [String: Double] = [:]
            let before = Tandem.loopStatistics
            for _ in 0..<max(1, repeats) {
                out = try PolyBench.run(k, size: s, dtype: dtype.dtype)
                best = min(best, out["seconds"]!)
            }
            let after = Tandem.loopStatistics
            let runs = Double(max(1, repeats))
            var row: [String: Any] = ["kernel": k, "size": size, "dtype": dtype.rawValue, "seconds": best, "checksum": out["checksum"]!, "corner": out["corner"]!,
                                      "arrays": Double(after.vectorised - before.vectorised) / runs,
                                      "peeled": Double(after.peeled - before.peeled) / runs,
                                      "wavefronts": Double(after.wavefronts - before.wavefronts) / runs,
                                      "points": Double(after.points - before.points) / runs,
                                      "compiled": Double(after.compiled - before.compiled) / runs,
                                      "compiled_parallel": Double(after.compiledParallel - before.compiledParallel) / runs,
                                      "compiled_threaded": Double(after.compiledThreaded - before.compiledThreaded) / runs,
                                      "compiled_swapped": Double(after.compiledSwapped - before.compiledSwapped) / runs,
                                      "compiled_turned": Double(after.compiledTurned - before.compiledTurned) / runs,
                                      "not_compiled": Double(after.notCompiled - before.notCompiled) / runs,
                                      "trees_reused": Double(after.treesReused - before.treesReused) / runs]
            if check {
                if let (sum, corner) = (dtype == .f32 ? PolyBenchCommand.expected32 : PolyBenchCommand.expected)[k]?[size] {
                    let tol = PolyBenchCommand.tolerance(dtype)
                    let ok = abs(out["checksum"]! - sum) <= tol * max(1, abs(sum)) && abs(out["corner"]! - corner) <= tol * max(1, abs(corner))
                    row["check"] = ok ? "pass" : "FAIL (NumPy: checksum \(sum), corner \(corner))"
                    failed = failed || !ok
                } else {
                    row["check"] = "no values for this size"
                }
            }
            rows.append(row)
            if !json {
                let how = "arrays \(fmt(row["arrays"])), one at a time \(fmt(row["peeled"])), wavefronts \(fmt(row["wavefronts"])), points \(fmt(row["points"])), compiled \(fmt(row["compiled"])) (parallel \(fmt(row["compiled_parallel"])), threaded \(fmt(row["compiled_threaded"])), swapped \(fmt(row["compiled_swapped"])), turned \(fmt(row["compiled_turned"]))), not compiled \(fmt(row["not_compiled"]))"
                let name = k + String(repeating: " ", count: max(0, 10 - k.count))
                print("\(name) \(size) \(dtype.rawValue) tandem \(JSON.number(best)) s  checksum \(JSON.number(out["checksum"]!)) \(row["check"].map { "\($0)" } ?? "")  [\(how)]")
            }
        }
        if peers { runPeers(names) }
        if json {
            let items = rows.map { row in
                "{" + row.keys.sorted().map { key -> String in
                    if let d = row[key] as? Double { return "\"\(key)\": \(JSON.number(d))" }
                    return "\"\(key)\": \"\(row[key]!)\""
                }.joined(separator: ", ") + "}"
            }
            print("[" + items.joined(separator: ", ") + "]")
        }
        if failed { throw ExitCode(1) }
    }

    private func fmt(_ v: Any?) -> String {
        guard let d = v as? Double else { return "-" }
        return d == d.rounded() ? String(Int(d)) : String((d * 10).rounded() / 10)
    }

    /// NumPy's versions, then Numba's (parallel, `prange` where legal; the script says so when
    /// Numba is not installed).
    private func runPeers(_ names: [String]) {
        for script in ["bench/polybench/polybench.py", "bench/polybench/polybench_numba.py"] {
            let command: [String]
            switch PackageFiles.python(script) {
            case .success(let c): command = c
            case .failure(let e):
                print("peers: " + e.why)
                continue
            }
            let argv = command + ["--size", size, "--dtype", dtype.rawValue, "--kernels", names.joined(separator: ","), "--repeats", String(repeats)]
            guard case .success(let r) = Subprocess.run(argv) else { return print("peers: could not start python3") }
            print(r.output, terminator: "")
        }
    }
}
