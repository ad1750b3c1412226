import Testing
import Tandem
import TandemExamples
import TandemRuntime

/// Every program of the Examples gallery at its small size, against NumPy (bench/examples/,
/// values copied from expected.json): under the default placement, through the interpreter and
/// through compiled C. Whole-number outputs (iteration counts, populations, escape counts) must
/// be equal; the others agree within 1e-9 relative.
@Suite("Examples", .serialized)
struct ExamplesTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let example: String
        let params: [String: Double]
        let outputs: [String: Double]
        var testDescription: String { example }
    }

    // From bench/examples/expected.json (python3 bench/examples/run_examples.py --expected).
    static let cases: [Case] = [
        Case(example: "heat", params: ["n": 12, "tolerance": 1e-5, "max_iterations": 1000, "check_every": 5],
             outputs: ["iterations": 290, "residual": 9.633807495967872e-06, "total": 131.14517753995398, "center": 1.8134817661612432]),
        Case(example: "kmeans", params: ["n": 600, "d": 2, "k": 4, "max_iterations": 20],
             outputs: ["iterations": 12, "inertia_first": 14659.422602769844, "inertia_last": 3120.959532993503,
                       "centroid_abs_sum": 23.48502070068462, "largest_cluster": 155]),
        Case(example: "logistic_regression", params: ["n": 1000, "d": 4, "epochs": 15, "learning_rate": 0.5],
             outputs: ["loss_first": 0.6931471805599454, "loss_last": 0.5474602051758518, "accuracy": 0.771,
                       "weight_sum": -0.06479930647896415, "bias": 0.414815164055754]),
        Case(example: "mandelbrot", params: ["width": 60, "height": 40, "max_iterations": 30],
             outputs: ["total": 24881, "inside": 558, "area": 1.6740000000000002]),
        Case(example: "asian_option", params: ["paths": 2000, "steps": 12, "s0": 100, "strike": 100, "rate": 0.05, "sigma": 0.2, "maturity": 1],
             outputs: ["price": 5.720736425023185, "std_error": 0.1876496204040373, "mean_final": 103.76524754761786]),
        Case(example: "fir_filter", params: ["n": 2000, "taps": 31, "cutoff": 30, "rate": 1000],
             outputs: ["rms_error_before": 0.31088582308185897, "rms_error_after": 0.06123199470155155,
                       "filtered_sum": 1.6420812164169902, "decimated_sum": 0.6096483009851781]),
        Case(example: "life", params: ["n": 32, "steps": 20, "density": 0.35],
             outputs: ["population_first": 371, "population_last": 175, "population_max": 371, "population_min": 170, "population_sum": 5108]),
        Case(example: "cavity_flow", params: ["n": 17, "steps": 20, "poisson_iterations": 20, "rho": 1, "nu": 0.1, "dt": 0.001],
             outputs: ["u_center": -0.002136238109871586, "v_center": -7.606888369060695e-07, "p_sum": 0.06669011442858952, "energy": 17.137864290554937]),
        Case(example: "image", params: ["width": 64, "height": 48, "noise": 40],
             outputs: ["mean": 117.04978962131837, "above_mean": 1420, "darkest": 56, "brightest": 211, "fullest_bin": 105,
                       "fullest_count": 47, "checksum": 12530528]),
        Case(example: "softmax_regression", params: ["n": 600, "d": 4, "k": 3, "epochs": 20, "learning_rate": 0.5],
             outputs: ["loss_first": 1.0986122886651095, "loss_last": 0.3783334778074137, "accuracy": 0.9533333333333334,
                       "w00": 0.012078711293769641, "weight_abs_sum": 6.627896081840487]),
        Case(example: "edge_detection", params: ["height": 40, "width": 56, "threshold": 20],
             outputs: ["blur_mean": 105.72366471044285, "magnitude_max": 85.05288177629842, "strong": 2057, "median": 44.79405651998709]),
        Case(example: "spectrum", params: ["n": 128, "rate": 512],
             outputs: ["peak_hz": 48, "second_peak_hz": 120, "peak_power": 6.250286474395951, "power_sum": 15.59655450638525]),
        Case(example: "allen_cahn", params: ["n": 32, "steps": 20, "dt": 0.05, "epsilon": 0.02],
             outputs: ["mean": 0.002216645991379098, "abs_mean": 0.03868773106474615, "positive_fraction": 0.51171875, "energy": 0.24889565369583433]),
        Case(example: "nbody", params: ["n": 32, "steps": 20, "dt": 0.001, "softening": 0.05],
             outputs: ["energy_start": -0.40773845390857866, "energy_end": -0.4077384526495784, "kinetic_end": 0.004856130332999585,
                       "max_speed": 0.13353506655067074, "x0": 0.5596095137560784]),
        Case(example: "advection", params: ["n": 64, "steps": 40, "courant": 0.4, "check_every": 10],
             outputs: ["sum": 8.021210476260617, "max": 0.7170125640126069, "argmax": 35, "peaks": 3.4339841435523475]),
        Case(example: "power_iteration", params: ["n": 16, "iterations": 20],
             outputs: ["lambda": 5.690443342803951, "v0": 0.06391575734263681, "v_sum": 3.774039660584873]),
    ]

    func check(_ c: Case, _ device: DeviceChoice?) throws {
        let example = try #require(Examples.named(c.example))
        #expect(example.smallParameters == c.params, "the small size of \(c.example) is not the one NumPy ran")
        let got = try device.map { d in try Tandem.withDevice(d) { try example.run(c.params) } } ?? example.run(c.params)
        #expect(Set(got.keys) == Set(c.outputs.keys), "\(c.example): outputs \(got.keys.sorted())")
        for (k, want) in c.outputs {
            let g = try #require(got[k], "missing output \(k)")
            if want == want.rounded() {
                #expect(g == want, "\(c.example) \(device?.rawValue ?? "default") \(k): \(g) vs \(want)")
            } else {
                #expect(Swift.abs(g - want) <= 1e-9 * Swift.abs(want), "\(c.example) \(device?.rawValue ?? "default") \(k): \(g) vs \(want)")
            }
        }
    }

    @Test("every example is checked here") func coverage() {
        #expect(Examples.all.map(\.name).sorted() == ExamplesTests.cases.map(\.example).sorted())
    }

    @Test("default placement", arguments: cases) func automatic(_ c: Case) throws { try check(c, nil) }
    @Test("interpreter", arguments: cases) func interpreted(_ c: Case) throws { try check(c, .interpreter) }
    @Test("compiled C", arguments: cases) func compiled(_ c: Case) throws { try check(c, .cpu) }
}

/// `tandem example`: the check passes at the small size; mistakes give one line and exit code 2.
@Suite("Examples CLI")
struct ExamplesCLITests {
    func run(_ args: [String]) throws -> (Int32, String) {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        guard case .success(let r) = Subprocess.run([bin] + args) else { Issue.record("could not start tandem"); return (-1, "") }
        return (r.status, r.output)
    }

    @Test func checkPasses() throws {
        let (status, output) = try run(["example", "life", "--small", "--check"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("check: pass"), "\(output)")
    }

    /// Without a BLAS, the softmax regression's thin products (`X @ W`, and `X.T @ (P - Y)` with
    /// its transposed view read in place) run on the tiled kernel, with NumPy's values.
    @Test func productsWithoutBLAS() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        guard case .success(let r) = Subprocess.run(["/usr/bin/env", "TANDEM_BLAS=off", "TANDEM_CALIBRATE_AFTER_EXIT=0", bin,
                                                     "example", "softmax_regression", "--small", "--check"], timeout: 300) else {
            Issue.record("could not start tandem"); return
        }
        #expect(r.status == 0 && r.output.contains("check: pass"), "\(r.output)")
    }

    /// The N-body loop reads nothing, so its chains are cut for depth (`Runtime.relieveDepth`);
    /// its accelerations, velocities and positions are three chains, and cut wherever one of
    /// them reached the bound, each cut fell on another statement of the body: 200 steps made
    /// 13 graphs, 12 of them planned from scratch. Cut at one statement, the graphs repeat.
    @Test func loopsWithoutReadsReusePlans() throws {
        let bin = try #require(CLITests.binary, "the tandem executable was not built")
        guard case .success(let r) = Subprocess.run(["/usr/bin/env", "TANDEM_PROFILE=1", "TANDEM_CALIBRATE_AFTER_EXIT=0", "TANDEM_EAGER=off", bin,
                                                     "example", "nbody", "n=16", "steps=200"], timeout: 300) else {
            Issue.record("could not start tandem"); return
        }
        #expect(r.status == 0, "\(r.output)")
        // "plan cache: hits 15, misses 7; ..."
        let line = try #require(r.output.split(separator: "\n").first { $0.contains("plan cache: hits") }, "\(r.output)")
        let words = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
        let hits = try #require(words.firstIndex(of: "hits").flatMap { Int(words[$0 + 1]) })
        let misses = try #require(words.firstIndex(of: "misses").flatMap { Int(words[$0 + 1]) })
        #expect(hits + misses >= 12, "\(line)")
        #expect(misses * 2 <= hits, "\(line)")
    }

    @Test func lists() throws {
        let (status, output) = try run(["example", "--list"])
        #expect(status == 0)
        for e in Examples.all { #expect(output.contains(e.name + ":"), "\(e.name) missing from --list") }
    }

    @Test(arguments: [
        (["example", "nope"], "unknown example 'nope'"),
        (["example", "heat", "n=abc"], "parameter n=abc is not a number"),
        (["example", "heat", "m=3"], "unknown parameter 'm' for heat"),
        (["example", "heat", "n"], "malformed parameter 'n'"),
        (["example", "life", "steps=0"], "must be a positive whole number"),
        (["example"], "name an example or use --list"),
    ])
    func badInput(_ args: [String], _ message: String) throws {
        let (status, output) = try run(args)
        #expect(status == 2, "\(args): \(output)")
        #expect(output.contains(message), "\(args): \(output)")
    }
}
