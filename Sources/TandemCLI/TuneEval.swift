import ArgumentParser
import Foundation
import Tandem
import TandemRuntime
import TandemWorkloads

/// `tandem tune-eval`: issue 21's experiment. Each case (a workload at a size, GMM over a sweep
/// of shapes) runs in this process three ways, one after the other: the fixed rules
/// (`TANDEM_TUNE=off`), tuned (`on`: the rule and its neighbours, measured on the runs) and
/// exhaustive (every variant measured; its choice is the best this machine found). Each way
/// starts from no tuning database and no plans (`Runtime.replaceTuner`), keeps the code already
/// compiled, and reports the median of `--repeats` runs once its kernels are settled. The tuning
/// cost is what the runs while tuning took beyond as many settled runs.
struct TuneEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-eval",
        abstract: "The fixed rules against tuned and exhaustively tuned variants: time a run, slowdown against the best, time spent tuning.",
        discussion: """
            Every case runs in this process under the rules, then tuned (TANDEM_TUNE=on), then \
            exhaustive (every variant measured), each from no tuning database; the tuning database \
            in the cache folder is neither read nor written. Times are medians of --repeats runs \
            once every kernel has its choice; "tuning" is the time the tuned runs took while \
            measuring beyond as many settled runs, and its share of those runs. --gmm adds GMM's \
            sweep (n from 10,000 to 300,000, d from 2 to 64, k from 2 to 256).
            """)

    @Option(help: "small, medium or large.") var size: SizeOption = .medium
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Option(help: "Only these workloads (comma separated).") var workloads: String?
    @Flag(help: "Add GMM over a sweep of shapes.") var gmm = false
    @Option(help: "Timed runs per way once settled (the median is reported).") var repeats = 5
    @Option(help: "Most seconds of tuning runs per way and case.") var seconds = 120.0
    @Flag(help: "Also the variants whose float32 sums round differently (tandem tune --reorder).") var reorder = false
    @Flag(help: "Print one JSON object.") var json = false

    struct Row: Codable {
        var workload: String
        var params: [String: Double]
        /// Median seconds a run: rules, tuned, exhaustive.
        var rules: Double
        var tuned: Double
        var exhaustive: Double
        /// Runs while tuning, and what they took beyond as many settled runs (seconds).
        var tunedRuns: Int
        var tuningSeconds: Double
        var tuningShare: Double
        var exhaustiveRuns: Int
        /// The kernels whose variants were measured, with the choice (`TuningReport`'s lines), in
        /// each tuned way.
        var tunedChoices: [String]
        var exhaustiveChoices: [String]
    }

    /// GMM shapes where different variants may win: few and many points, dimensions and
    /// components.
    static let gmmSweep: [[String: Double]] = [
        ["n": 300_000, "d": 2, "k": 4, "iterations": 3], ["n": 300_000, "d": 8, "k": 16, "iterations": 3],
        ["n": 100_000, "d": 32, "k": 16, "iterations": 3], ["n": 30_000, "d": 64, "k": 8, "iterations": 3],
        ["n": 10_000, "d": 4, "k": 256, "iterations": 3], ["n": 100_000, "d": 16, "k": 64, "iterations": 3],
    ]

    func run() throws {
        let cases = try withUsageErrors { () -> [(Workload, [String: Double])] in
            guard repeats >= 1, seconds > 0 else { throw UsageError(description: "--repeats must be at least 1 and --seconds positive") }
            let names = try workloads.map { try $0.split(separator: ",").map { try namedWorkload(String($0)).name } } ?? Workloads.all.map(\.name)
            var cases = try names.map { (try namedWorkload($0), size.parameters($0)) }
            if gmm { cases += try TuneEval.gmmSweep.map { (try namedWorkload("gmm_em"), $0) } }
            return cases
        }
        let saved = Tandem.runtime.tuner
        defer { Tandem.runtime.replaceTuner(saved) }
        var rows: [Row] = []
        for (w, params) in cases {
            let prepared = try w.prepare(params, dtype: dtype.dtype)
            func settledMedian() throws -> Double {
                var t: [Double] = []
                for _ in 0..<repeats {
                    let start = Date()
                    _ = try prepared.run()
                    t.append(Date().timeIntervalSince(start))
                }
                return t.sorted()[t.count / 2]
            }
            // The rules: warm-up runs until the code the runtime compiles on the side is there
            // (not counted; kernels the model leaves interpreted stay so in every way).
            Tandem.runtime.replaceTuner(Tuner(mode: .off, database: nil))
            for _ in 0..<3 {
                _ = try prepared.run()
                Tandem.runtime.drainBackgroundCompiles()
            }
            let rules = try settledMedian()
            func tunedWay(_ mode: TuneMode) throws -> (times: [Double], median: Double, choices: [String]) {
                Tandem.runtime.replaceTuner(Tuner(mode: mode, reorder: reorder, database: nil))
                let (times, _) = try TuningRuns.untilSettled(prepared, dtype: dtype, runs: 100_000, seconds: seconds)
                let median = try settledMedian()
                // The kernels whose variants were measured (the rest ran too briefly to rank).
                let measured = Tandem.runtime.tuner.report.filter { $0.candidates.dropFirst().contains { $0.runs > 0 } }
                return (times, median, measured.map(\.description))
            }
            let tuned = try tunedWay(.on)
            let exhaustive = try tunedWay(.exhaustive)
            let spent = tuned.times.reduce(0, +)
            let extra = spent - Double(tuned.times.count) * tuned.median
            let row = Row(workload: w.name, params: params, rules: rules, tuned: tuned.median, exhaustive: exhaustive.median,
                          tunedRuns: tuned.times.count, tuningSeconds: extra, tuningShare: spent > 0 ? extra / spent : 0,
                          exhaustiveRuns: exhaustive.times.count, tunedChoices: tuned.choices, exhaustiveChoices: exhaustive.choices)
            rows.append(row)
            if !json { ProcessInfoLite.warn("tune-eval: \(w.name) rules \(format3(rules)) s, tuned \(format3(tuned.median)) s, exhaustive \(format3(exhaustive.median)) s") }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let object = ["dtype": dtype.rawValue, "size": size.rawValue, "reorder": reorder ? "yes" : "no"] as [String: String]
            struct Out: Codable { var settings: [String: String]; var rows: [Row] }
            print(String(decoding: try encoder.encode(Out(settings: object, rows: rows)), as: UTF8.self))
            return
        }
        print("tune-eval [\(dtype.dtype), \(size.rawValue)\(reorder ? ", reorder" : "")]: seconds a run (median of \(repeats)), against the exhaustive best")
        print("workload                     rules    tuned  exhaust.  rules/best tuned/best  tuning s (share, runs)")
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        for r in rows {
            let name = r.workload == "gmm_em" && gmm ? "gmm n=\(Int(r.params["n"] ?? 0)) d=\(Int(r.params["d"] ?? 0)) k=\(Int(r.params["k"] ?? 0))" : r.workload
            print(pad(name, 26) + lpad(format3(r.rules), 8) + lpad(format3(r.tuned), 9) + lpad(format3(r.exhaustive), 10)
                  + lpad(format2(r.rules / r.exhaustive), 12) + lpad(format2(r.tuned / r.exhaustive), 11)
                  + "  \(format3(r.tuningSeconds)) (\(Int((r.tuningShare * 100).rounded())) %, \(r.tunedRuns))")
        }
        let n = Double(max(rows.count, 1))
        let tunedMean = rows.map { $0.tuned / $0.exhaustive }.reduce(0, +) / n
        let worst = rows.map { $0.tuned / $0.rules }.max() ?? 1
        print("tuned against the exhaustive best: \(format2(tunedMean))x on average; tuned against the rules: at worst \(format2(worst))x")
        for r in rows where !r.exhaustiveChoices.isEmpty {
            print("\(r.workload) \(r.params.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSON.number($0.value))" }.joined(separator: " ")):")
            for c in r.exhaustiveChoices { print("  exhaustive: " + c) }
            for c in r.tunedChoices { print("  tuned:      " + c) }
        }
    }
}
