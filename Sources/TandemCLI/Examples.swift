import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Tandem
import TandemExamples
import TandemRuntime

/// `tandem example NAME [k=v ...]`: one program of the Examples gallery (Examples/*.swift).
struct ExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "Run one program of the Examples gallery and print its outputs and time.",
        discussion: """
            Examples: \(Examples.all.map(\.name).joined(separator: ", ")). Parameters are name=value; \
            missing ones take the medium size (--small: the small size CI checks). --check compares with \
            NumPy's values built in for the small size (bench/examples/run_examples.py computes them for any size).
            """)

    @Argument(help: "The example (see --list).") var name: String?
    @Argument(help: "Parameters, name=value.") var parameters: [String] = []
    @Flag(help: "List the examples with their parameters.") var list = false
    @Flag(help: "Start from the small size (the size CI checks) instead of the medium one.") var small = false
    @Flag(help: "Compare the outputs with NumPy's; exit 1 on a mismatch.") var check = false
    @Flag(help: "Print one JSON object.") var json = false

    /// Relative tolerance of --check (float64 against NumPy); whole-number outputs (counts) must be equal.
    static let tolerance = 1e-9

    func run() throws {
        if list {
            for e in Examples.all {
                print("\(e.name): \(e.summary)")
                print("  medium: \(describe(e.filled([:])))")
                print("  small:  \(describe(e.smallParameters))")
            }
            return
        }
        let (example, params) = try withUsageErrors { () -> (Example, [String: Double]) in
            guard let name else { throw UsageError(description: "name an example or use --list; examples: \(Examples.all.map(\.name).joined(separator: ", "))") }
            guard let e = Examples.named(name) else {
                throw UsageError(description: "unknown example '\(name)'; try one of \(Examples.all.map(\.name).joined(separator: ", "))")
            }
            var p = small ? e.small : [:]
            for (k, v) in try parseExampleParameters(parameters, for: e) { p[k] = v }
            return (e, e.filled(p))
        }
        var expected: [String: Double]?
        if check {
            expected = try withUsageErrors {
                if let values = ExpectedExamples.outputs(example.name, params) { return values }
                // Only built-in values: a --check never runs a script found in the current folder.
                throw UsageError(description: "no NumPy values built in for \(example.name) with these parameters: use --small, or compare with python3 bench/examples/run_examples.py \(example.name) k=v")
            }
        }
        Tandem.resetStatistics()
        let start = now()
        let outputs = try example.run(params)
        let seconds = now() - start
        let stats = Tandem.statistics

        var mismatches: [String] = []
        if let expected {
            for (k, want) in expected.sorted(by: { $0.key < $1.key }) {
                let got = outputs[k] ?? .nan
                let ok = want == want.rounded() ? got == want
                    : Swift.abs(got - want) <= ExampleCommand.tolerance * Swift.abs(want)
                if !ok { mismatches.append("\(k): \(got) vs \(want)") }
            }
        }
        let checkResult = expected == nil ? "skipped" : mismatches.isEmpty ? "pass" : "fail"
        let device = stats.kernelsByDevice.keys.sorted().joined(separator: "+")
        if json {
            let ps = params.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(JSON.number($0.value))" }.joined(separator: ", ")
            let outs = outputs.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \(JSON.number($0.value))" }.joined(separator: ", ")
            print("{\"example\": \"\(example.name)\", \"params\": {\(ps)}, \"device\": \"\(device)\", \"outputs\": {\(outs)}, \"seconds\": \(JSON.number(seconds)), \"syncs\": \(stats.syncs), \"kernels\": \(stats.kernelsRun), \"ops_fused\": \(stats.opsFused), \"compiles\": \(stats.compileMisses), \"planning_seconds\": \(JSON.number(Double(stats.planNanos) / 1e9)), \"check\": \"\(checkResult)\"}")
        } else {
            print("\(example.name) \(describe(params)) [\(device)]")
            for (k, v) in outputs.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(JSON.number(v))") }
            print("  time \(format3(seconds)) s, syncs \(stats.syncs), kernels \(stats.kernelsRun), ops fused \(stats.opsFused), compiles \(stats.compileMisses), planning \(format3(Double(stats.planNanos) / 1e9)) s")
            if check { print("  check: \(checkResult)" + (mismatches.isEmpty ? "" : " (" + mismatches.joined(separator: "; ") + ")")) }
        }
        if checkResult == "fail" { throw ExitCode(1) }
    }

    func describe(_ p: [String: Double]) -> String {
        p.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")
    }
}

/// Parses `k=v` parameters against an example's parameter list (the rules of `tandem run`).
func parseExampleParameters(_ items: [String], for example: Example) throws -> [String: Double] {
    try parseParameters(items, program: example.name, names: example.parameters.map(\.name),
                        integers: example.integerParameters,
                        zeroAllowed: Set(example.parameters.filter { $0.defaultValue == 0 }.map(\.name)), maxWhole: 1e9)
}

/// NumPy's outputs for the examples at their small sizes (bench/examples/expected.json, float64).
enum ExpectedExamples {
    static let small: [String: [String: Double]] = [
        "heat": ["iterations": 290, "residual": 9.633807495967872e-06, "total": 131.14517753995398, "center": 1.8134817661612432],
        "kmeans": ["iterations": 12, "inertia_first": 14659.422602769844, "inertia_last": 3120.959532993503,
                   "centroid_abs_sum": 23.48502070068462, "largest_cluster": 155],
        "logistic_regression": ["loss_first": 0.6931471805599454, "loss_last": 0.5474602051758518, "accuracy": 0.771,
                                "weight_sum": -0.06479930647896415, "bias": 0.414815164055754],
        "mandelbrot": ["total": 24881, "inside": 558, "area": 1.6740000000000002],
        "asian_option": ["price": 5.720736425023185, "std_error": 0.1876496204040373, "mean_final": 103.76524754761786],
        "fir_filter": ["rms_error_before": 0.31088582308185897, "rms_error_after": 0.06123199470155155,
                       "filtered_sum": 1.6420812164169902, "decimated_sum": 0.6096483009851781],
        "life": ["population_first": 371, "population_last": 175, "population_max": 371, "population_min": 170, "population_sum": 5108],
        "cavity_flow": ["u_center": -0.002136238109871586, "v_center": -7.606888369060695e-07, "p_sum": 0.06669011442858952, "energy": 17.137864290554937],
        "image": ["mean": 117.04978962131837, "above_mean": 1420, "darkest": 56, "brightest": 211, "fullest_bin": 105,
                  "fullest_count": 47, "checksum": 12530528],
        "softmax_regression": ["loss_first": 1.0986122886651095, "loss_last": 0.3783334778074137, "accuracy": 0.9533333333333334,
                               "w00": 0.012078711293769641, "weight_abs_sum": 6.627896081840487],
        "edge_detection": ["blur_mean": 105.72366471044285, "magnitude_max": 85.05288177629842, "strong": 2057, "median": 44.79405651998709],
        "spectrum": ["peak_hz": 48, "second_peak_hz": 120, "peak_power": 6.250286474395951, "power_sum": 15.59655450638525],
        "allen_cahn": ["mean": 0.002216645991379098, "abs_mean": 0.03868773106474615, "positive_fraction": 0.51171875, "energy": 0.24889565369583433],
        "nbody": ["energy_start": -0.40773845390857866, "energy_end": -0.4077384526495784, "kinetic_end": 0.004856130332999585,
                  "max_speed": 0.13353506655067074, "x0": 0.5596095137560784],
        "advection": ["sum": 8.021210476260617, "max": 0.7170125640126069, "argmax": 35, "peaks": 3.4339841435523475],
        "power_iteration": ["lambda": 5.690443342803951, "v0": 0.06391575734263681, "v_sum": 3.774039660584873],
    ]

    static func outputs(_ name: String, _ params: [String: Double]) -> [String: Double]? {
        guard let e = Examples.named(name), params == e.smallParameters else { return nil }
        return small[name]
    }
}
