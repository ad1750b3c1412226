import ArgumentParser
import Foundation
import Tandem
import TandemRuntime
import TandemWorkloads

/// `tandem tune`: a workload's kernels tuned ahead of time (issue 21).
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune a workload's kernels: measure each hot kernel's code variants on the workload's own runs, keep the fastest.",
        discussion: """
            Runs the workload until every kernel with variants has its choice (or --runs), with every \
            variant measured (TANDEM_TUNE=exhaustive's way), then prints each kernel's variants with \
            their median times and the choice. The choices go to the tuning database in the cache \
            folder (tuning.json), which later runs use without measuring. Every variant computes the \
            same bits, except those --reorder adds (float32 sums in float lanes: within float32's \
            tolerance of the rules' results, not their bits); each run's outputs are checked against the first run's (within the --check \
            tolerance: a kernel interpreted in one run and compiled in another may differ in libm's \
            last bits).
            Workloads: \(Workloads.all.map(\.name).joined(separator: ", ")).
            """)

    @Argument(help: "The workload.") var workload: String
    @Argument(help: "Parameters, name=value.") var parameters: [String] = []
    @Option(help: "Element type: f32 or f64.") var dtype: DTypeOption = .f64
    @Option(help: "Most runs of the workload.") var runs = 1000
    @Option(help: "Most seconds of runs (the variants' compiles happen on the side meanwhile).") var seconds = 120.0
    @Option(help: "on (the rule and its two nearest variants) or exhaustive (every variant).") var mode: TuneMode = .exhaustive
    @Flag(help: "Also the variants whose float32 sums round differently from the rules' (within float32's tolerance); later runs use such a choice under TANDEM_TUNE=on,reorder.") var reorder = false

    func run() throws {
        let (w, params) = try withUsageErrors { () -> (Workload, [String: Double]) in
            let w = try namedWorkload(workload)
            guard mode != .off else { throw UsageError(description: "--mode off tunes nothing; use on or exhaustive") }
            guard runs >= 1, seconds > 0 else { throw UsageError(description: "--runs must be at least 1 and --seconds positive") }
            return (w, try parseParameters(parameters, for: w))
        }
        Tandem.runtime.tuner = Tuner(mode: mode, reorder: reorder, database: Tandem.runtime.tuner.database)
        let prepared = try w.prepare(params, dtype: dtype.dtype)
        let (times, idle) = try TuningRuns.untilSettled(prepared, dtype: dtype, runs: runs, seconds: seconds)
        let report = Tandem.runtime.tuner.report
        print("\(w.name) [\(dtype.dtype)], \(times.count) runs: first \(String(format: "%.3f", times[0])) s, last \(String(format: "%.3f", times.last!)) s; \(report.count) kernels with variants")
        for r in report { print("  " + r.description + (r.chosen == nil && idle(r) ? " (not run lately: the kernel runs elsewhere now)" : "")) }
        if report.isEmpty { print("  (no kernel of this workload has code variants, or none ran long enough to rank them: \(Tandem.runtime.tuner.minimumSeconds * 1e3) ms)") }
        if report.contains(where: { $0.chosen == nil && !idle($0) }) { print("  (still measuring after \(times.count) runs: raise --runs or --seconds)") }
    }
}

/// Runs of a workload while the runtime's tuner measures its kernels' variants.
enum TuningRuns {
    /// Runs `prepared` until every kernel with variants has its choice (at least two runs), or
    /// `runs` runs, or `seconds`: each run's time, and whether a kernel's trial is idle (not run
    /// over the last five runs: the cost model moved it to another placement, where a trial of
    /// its own runs). Each run's outputs must agree with the first run's within the check's
    /// tolerance (a kernel interpreted in one run and compiled in another differs in libm's
    /// last bits by design; a reordered sum in float32's).
    static func untilSettled(_ prepared: Workload.Prepared, dtype: DTypeOption, runs: Int, seconds: Double) throws
        -> (times: [Double], idle: (TuningReport) -> Bool) {
        var times: [Double] = []
        var first: [String: Double]? = nil
        let began = Date()
        let idleRuns = 5
        var lastSeen: [String: (seen: Int, run: Int)] = [:]
        func key(_ r: TuningReport) -> String { "\(r.label) \(r.placement.rawValue) \(r.sizeClass)" }
        for _ in 0..<runs where Date().timeIntervalSince(began) < seconds {
            let start = Date()
            let outputs = try prepared.run()
            times.append(Date().timeIntervalSince(start))
            if let first, let k = outputs.keys.sorted().first(where: { !dtype.agrees(outputs[$0] ?? .nan, first[$0] ?? .nan) }) {
                throw ValidationError("run \(times.count)'s \(k) is \(outputs[k] ?? .nan), the first run's \(first[k] ?? .nan)")
            }
            first = first ?? outputs
            let report = Tandem.runtime.tuner.report
            for r in report where lastSeen[key(r)]?.seen != r.seen { lastSeen[key(r)] = (r.seen, times.count) }
            let count = times.count
            if count >= 2 && report.allSatisfy({ $0.chosen != nil || count - (lastSeen[key($0)]?.run ?? count) >= idleRuns }) { break }
        }
        let count = times.count, seen = lastSeen
        return (times, { r in count - (seen[key(r)]?.run ?? count) >= idleRuns })
    }
}

extension TuneMode: ExpressibleByArgument {}
