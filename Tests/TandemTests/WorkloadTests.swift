#if canImport(Glibc)
import Glibc
#endif
import Testing
import Tandem
import _TandemTestSupport
import TandemWorkloads
import TandemRuntime

/// Every workload at the small cases of expected.json (copied here), in float64 and float32,
/// through compiled C and through the interpreter.
@Suite("Workloads", .serialized)
struct WorkloadTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let workload: String
        let params: [String: Double]
        let outputs: [String: Double]
        var testDescription: String { workload }
    }

    // From shared/workloads/expected.json (NumPy float64).
    static let cases: [Case] = [
        Case(workload: "black_scholes", params: ["n": 1000, "iterations": 1],
             outputs: ["call_sum": 2945.501166934582, "put_sum": 31335.87269608432]),
        Case(workload: "sor", params: ["n": 30, "max_iterations": 1000, "epsilon": 0.001],
             outputs: ["sweeps": 1000, "last_delta": 0.010606183432569931, "sum": 254.4265944636242]),
        Case(workload: "red_black_sor", params: ["n": 31, "iterations": 10],
             outputs: ["sum": 137.1431076532016]),
        Case(workload: "shallow_water", params: ["n": 20, "steps": 10],
             outputs: ["h_sum": 488.9242107516251, "energy": 9.829743995751477]),
        Case(workload: "nbody", params: ["n": 100, "steps": 3],
             outputs: ["x_sum": -2.2858435817456684, "y_sum": 5.715698328042736, "z_sum": -0.7183307190370818, "kinetic": 0.0033140339155915085]),
        Case(workload: "gmm_em", params: ["n": 1000, "d": 3, "k": 4, "iterations": 3],
             outputs: ["loglik_first": -26701.097557117882, "loglik_last": -6163.832354106301, "mu_abs_sum": 50.728352530462764, "var_sum": 24.21830592472846]),
    ]

    func check(_ c: Case, _ dtype: DType, _ device: DeviceChoice) throws {
        let w = try #require(Workloads.named(c.workload))
        let got = try Tandem.withDevice(device) { try w.run(c.params, dtype: dtype) }
        let tolerance = dtype == .float64 ? 1e-8 : 1e-4
        for (k, want) in c.outputs {
            let g = try #require(got[k], "missing output \(k)")
            #expect(Swift.abs(g - want) <= tolerance * Swift.abs(want), "\(c.workload) \(dtype) \(device) \(k): \(g) vs \(want)")
        }
    }

    @Test("compiled, float64", arguments: cases) func compiled64(_ c: Case) throws { try check(c, .float64, .cpu) }
    @Test("compiled, float32", arguments: cases) func compiled32(_ c: Case) throws { try check(c, .float32, .cpu) }
    @Test("interpreter, float64", arguments: cases) func interpreted64(_ c: Case) throws { try check(c, .float64, .interpreter) }
    @Test("interpreter, float32", arguments: cases) func interpreted32(_ c: Case) throws { try check(c, .float32, .interpreter) }
    // Issue 18 point 5: the six workloads on the OpenCL device (PoCL in CI).
    @Test("OpenCL, float64", .enabled(if: openCLAvailable), arguments: cases) func openCL64(_ c: Case) throws { try check(c, .float64, .opencl) }
    @Test("OpenCL, float32", .enabled(if: openCLAvailable), arguments: cases) func openCL32(_ c: Case) throws { try check(c, .float32, .opencl) }
}

/// `tandem run` argument errors: one clear line and exit code 2.
@Suite("CLI")
struct CLITests {
    /// The `tandem` executable SwiftPM built beside the tests.
    static var binary: String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        guard n > 0 else { return nil }
        var path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // .../.build/<triple>/debug/TandemPackageTests.xctest → .../.build/<triple>/debug/tandem
        while let slash = path.lastIndex(of: "/"), !path.hasSuffix("/debug"), !path.hasSuffix("/release") {
            path = String(path[..<slash])
            if path.isEmpty { return nil }
        }
        let tandem = path + "/tandem"
        return access(tandem, X_OK) == 0 ? tandem : nil
    }

    /// Runs `tandem args`, with `environment` (`NAME=value`) added through `/usr/bin/env`.
    func run(_ args: [String], environment: [String] = []) throws -> (Int32, String) {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        // No calibration handed on at exit by a run on a fresh cache folder, unless asked for.
        let environment = environment.contains { $0.hasPrefix("TANDEM_CALIBRATE_AFTER_EXIT=") } ? environment
            : environment + ["TANDEM_CALIBRATE_AFTER_EXIT=0"]
        let argv = ["/usr/bin/env"] + environment + [bin] + args
        guard case .success(let r) = Subprocess.run(argv) else { Issue.record("could not start tandem"); return (-1, "") }
        return (r.status, r.output)
    }

    @Test(arguments: [
        (["run", "nope"], "unknown workload 'nope'"),
        (["run", "sor", "n=abc"], "parameter n=abc is not a number"),
        (["run", "sor", "m=3"], "unknown parameter 'm' for sor"),
        (["run", "sor", "n"], "malformed parameter 'n'"),
        (["run", "sor", "n=2.5"], "must be a positive whole number"),
        (["run", "sor", "n=10000000"], "impossible size for sor"),
        (["run", "sor", "n=10", "n=20"], "parameter n is given twice"),
    ])
    func argumentErrors(_ args: [String], _ message: String) throws {
        let (status, output) = try run(args)
        #expect(status == 2)
        #expect(output.contains(message), "\(output)")
        #expect(output.split(separator: "\n").count == 1, "one line: \(output)")
    }

    @Test("runtime failures say one line and exit 3, not usage text and not a --check mismatch's 1")
    func runtimeFailures() throws {
        let scratch = TestScratch.path("cli-failures")
        for (args, message) in [(["report", "--trace", scratch + "/missing.json", "--output", scratch + "/r.html"],
                                 "cannot read the trace \(scratch)/missing.json: No such file or directory"),
                                (["report", "black_scholes", "n=1000", "--output", scratch + "/no/such/dir/r.html"],
                                 "cannot write the report \(scratch)/no/such/dir/r.html: No such file or directory")] {
            let (status, output) = try run(args)
            #expect(status == 3, "\(args): \(output)")
            #expect(output.contains(message), "\(output)")
            #expect(!output.contains("Usage"), "no usage text: \(output)")
        }
    }

    @Test("tandem devices flags a cache folder others can write")
    func devicesFlagsUnsafeCache() throws {
        let dir = TestScratch.path("unsafe-cache")
        mkdir(dir, 0o700)
        chmod(dir, 0o777)
        let (status, output) = try run(["devices"], environment: ["TANDEM_CACHE_DIR=\(dir)"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("cache: UNSAFE: \(dir) can be written by others (mode 777)"), "\(output)")
        chmod(dir, 0o700)
        let (_, safe) = try run(["devices"], environment: ["TANDEM_CACHE_DIR=\(dir)"])
        #expect(!safe.contains("UNSAFE"), "\(safe)")
    }

    @Test("a soak of 10,000 syncs keeps resident memory flat after warming up (issue 17 point 10)")
    func soak() throws {
        let (status, output) = try run(["overhead", "--soak", "10000"])
        #expect(status == 0, "\(output)")
        let line = output.split(separator: "\n").first { $0.hasPrefix("resident memory after the first tenth") } ?? ""
        #expect(line.contains("growth"), "\(output)")
        let growth = line.split(separator: " ").firstIndex(of: "growth").flatMap { Double(line.split(separator: " ")[$0 + 1]) }
        #expect(growth != nil && growth! <= 16, "\(line)")
    }

    @Test("help for the command and each subcommand exits 0 with usage text")
    func help() throws {
        for args in [["--help"], ["run", "--help"], ["bench", "--help"], ["example", "--help"], ["report", "--help"]] {
            let (status, output) = try run(args)
            #expect(status == 0, "\(args): \(output)")
            #expect(output.contains("USAGE"), "\(args): \(output)")
        }
    }

    @Test("bad TANDEM_THREADS and an unwritable TANDEM_GRAPH are said once; the run goes on")
    func badEnvironment() throws {
        let (status, output) = try run(["run", "black_scholes", "n=1000"], environment: ["TANDEM_THREADS=abc", "TANDEM_GRAPH=/proc/tandem-no-such-dir"])
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "TANDEM_THREADS=abc is not a number of threads").count == 2, "\(output)")
        #expect(output.components(separatedBy: "TANDEM_GRAPH: cannot write").count == 2, "\(output)")
    }

    @Test("a tensor larger than the address-space limit: one line naming the size and the limit, exit 71; the size check counts the limit")
    func outOfMemory() throws {
        let bin = try #require(CLITests.binary)
        // 2 GB of address space: the example's 6.4 GB grid cannot be had, and black_scholes'
        // 4.8 GB is refused before it starts.
        guard case .success(let r) = Subprocess.run(["/bin/sh", "-c", "ulimit -v 2000000 && exec \(bin) example life n=40000 steps=1"], timeout: 120) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(r.status == 71, "\(r.output.suffix(500))")
        #expect(r.output.contains("tandem: out of memory: could not allocate 6400640016 bytes"), "\(r.output.suffix(500))")
        #expect(r.output.contains("address-space limit (ulimit -v)"), "\(r.output.suffix(500))")
        #expect(!r.output.contains("Backtrac"), "no backtrace: \(r.output.suffix(500))")
        guard case .success(let q) = Subprocess.run(["/bin/sh", "-c", "ulimit -v 2000000 && exec \(bin) run black_scholes n=200000000"], timeout: 60) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(q.status == 2, "\(q.output)")
        #expect(q.output.contains("impossible size for black_scholes") && q.output.contains("address-space limit"), "\(q.output)")
    }

    @Test("tandem overhead times the read-every-iteration loop at each count; bad options exit 2")
    func overhead() throws {
        let (status, output) = try run(["overhead", "--iterations", "10,30", "--n", "16", "--read", "element"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("10 iterations:") && output.contains("30 iterations:") && output.contains("last 1.99"), "\(output)")
        let (bad, message) = try run(["overhead", "--read", "twice"])
        #expect(bad == 2 && message.contains("--read is sum, element or none"), "\(message)")
    }

    @Test("--check never runs a reference.py from the current folder (issue 17 point 7)")
    func checkIgnoresCurrentFolder() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        let dir = TestScratch.path("check-cwd")
        mkdir(dir, 0o700); mkdir(dir + "/bench", 0o700); mkdir(dir + "/bench/peers", 0o700)
        let marker = dir + "/ran"
        let script = "import sys\nopen('\(marker)', 'w').write('ran')\nprint('{\"workload\": \"nbody\", \"outputs\": {\"energy\": 0}}')\n"
        #expect(ProcessInfoLite.write(Array(script.utf8), to: dir + "/bench/peers/reference.py"))
        // Parameters outside the built-in reference table: the reference script is looked for.
        guard case .success(let r) = Subprocess.run(["/bin/sh", "-c", "cd '\(dir)' && exec '\(bin)' run nbody n=37 steps=2 --check"]) else {
            Issue.record("could not start tandem")
            return
        }
        #expect(access(marker, F_OK) != 0, "the current folder's reference.py ran: \(r.output)")
    }

    @Test("cache entries are private under umask 002 and a relative or slash-ended TANDEM_CACHE_DIR is made private where it points (issue 17 point 2)")
    func cacheModes() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        let base = TestScratch.path("modes")
        mkdir(base, 0o700)
        func run(_ cacheDir: String, in folder: String) throws -> String {
            let cmd = "umask 002 && cd '\(folder)' && TANDEM_CALIBRATE_AFTER_EXIT=0 TANDEM_CACHE_DIR='\(cacheDir)' TANDEM_PROFILE=1 TANDEM_DEVICE=cpu exec '\(bin)' run sor n=18 max_iterations=2"
            guard case .success(let r) = Subprocess.run(["/bin/sh", "-c", cmd]) else { throw TandemError.loadFailed(path: bin, reason: "could not start") }
            return r.output
        }
        _ = try run(base + "/abs/", in: base)
        let second = try run(base + "/abs/", in: base)
        #expect(second.contains("rejected 0") && second.contains("compiles 0"), "the second run rebuilt: \(second)")
        var st = stat()
        #expect(stat(base + "/abs", &st) == 0 && st.st_mode & 0o777 == 0o700, "mode \(String(st.st_mode & 0o777, radix: 8))")
        _ = try run("rel/cache/", in: base)
        #expect(stat(base + "/rel/cache/cpu", &st) == 0, "the relative cache folder was not made under the current folder")
        #expect(stat(base + "/rel/cache", &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    @Test func runChecksAndPrintsJSON() throws {
        let (status, output) = try run(["run", "nbody", "n=100", "steps=3", "--check", "--json"])
        #expect(status == 0)
        #expect(output.contains("\"workload\": \"nbody\""))
        #expect(output.contains("\"check\": \"pass\""))
        #expect(output.contains("\"kernels\": "))
    }
}
