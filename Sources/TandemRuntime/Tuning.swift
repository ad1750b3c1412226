import Foundation
import Synchronization
import TandemIR
import TandemCompiler

/// How the runtime chooses among a kernel's code variants (`KernelVariant`): `TANDEM_TUNE`. The
/// variants measured give the rules' bits unless reordered sums are allowed as well
/// (`TANDEM_TUNE=on,reorder`: `Tuner.reorder`).
///
///     let tuner = Tuner.fromEnvironment(database: nil)   // .on unless TANDEM_TUNE says otherwise
public enum TuneMode: String, Sendable, CaseIterable {
    /// The fixed rules' code only.
    case off
    /// The default: a hot kernel's rule and its two nearest variants are measured on its own
    /// runs (three each), the fastest kept and remembered in the tuning database.
    case on
    /// Every variant, five runs each (`tandem tune`).
    case exhaustive

    /// `TANDEM_TUNE`'s text: a mode, `reorder` (the default mode with reordered sums allowed), or
    /// a mode and `reorder` (`on,reorder`, `exhaustive,reorder`). Text that is none of these is
    /// said once and `on` used.
    static func parse(_ text: String?) -> (mode: TuneMode, reorder: Bool) {
        guard let text else { return (.on, false) }
        let words = text.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let reorder = words.contains("reorder")
        let modes = words.filter { $0 != "reorder" }
        if modes.count <= 1, let mode = modes.isEmpty ? (reorder ? .on : nil) : TuneMode(rawValue: modes[0]), !(mode == .off && reorder) {
            return (mode, reorder)
        }
        if !TuneMode.badTextSaid.exchange(true, ordering: .relaxed) {
            ProcessInfoLite.warn("tandem: TANDEM_TUNE=\(text) is not one of off, on, exhaustive, reorder, on,reorder, exhaustive,reorder; using on")
        }
        return (.on, false)
    }

    private static let badTextSaid = Atomic<Bool>(false)
}

/// Choosing a kernel's code variant by measuring it (issue 21; SEJITS's idea: the best schedule
/// depends on the machine and the sizes, so it is measured there, not decided by a rule).
///
/// For each compiled kernel, size class (`sizeClass`: its points to the nearest power of two)
/// and host placement, the tuner runs the rules' code first. A kernel whose runs in this process
/// have taken `budgetFactor` times the estimated compile time of its other candidates (in
/// `exhaustive` mode, at once), and whose runs are at least `minimumSeconds` long (shorter ones
/// are measured with too much noise to rank), is then tuned on its own later runs: each
/// candidate is compiled on the side (the rule's code runs until it is ready), the candidates
/// run in turn `runsPerCandidate` times each, and the one with the lowest median is kept (a
/// variant must beat the rule's median by `margin`, and its best run the rule's best, so a few
/// percent of noise does not move a choice). The choice is written to the tuning database at
/// exit; a later process (same machine, same Tandem binary) uses it without measuring. The
/// extra cost is the candidates' compiles (on the side, at most a `1 / budgetFactor` share of
/// the time the kernel had already run) and their runs while they lose.
///
/// Every variant computes the rule's bits (see `KernelVariant`), so tuning never changes a result,
/// unless reordered sums are allowed (`reorder`: `KernelVariant.floatSums`, within float32's
/// tolerance).
public final class Tuner: Sendable {
    public let mode: TuneMode
    /// Whether variants whose sums round differently from the rules' (`KernelVariant.floatSums`)
    /// are among the candidates: results then depend on the variant chosen (reproducible on
    /// this machine once it is chosen and saved; while a kernel is still measured its runs
    /// alternate between variants).
    public let reorder: Bool
    /// The database of earlier processes' choices; nil: choices last this process only.
    public let database: TuningDatabase?

    /// Shortest median run worth ranking variants by (`defaultMinimumSeconds` unless a test
    /// asks for less).
    public let minimumSeconds: Double
    public static let defaultMinimumSeconds = 0.5e-3
    /// A kernel is tuned once it has run this many times its candidates' estimated compiles.
    public static let budgetFactor = 5.0
    /// How much faster than the rule's median a variant's must be to be chosen: timings on a
    /// shared machine move by a few percent between runs of the same code.
    public static let margin = 0.05
    /// Placements of a kernel with no run ever measured after which its trial gives up for the
    /// rules' code.
    public static let stallPlacements = 200
    /// Time after the measuring started (compiles on a busy machine included) after which a
    /// trial that has not reached its choice gives up for the rules' code.
    public static let stallNanos: UInt64 = 120_000_000_000
    /// Most kernels (structure, size class, placement) a process keeps a trial for.
    public static let maxTrials = 4096

    /// The size class of a kernel of `points` domain points: log2, rounded.
    public static func sizeClass(_ points: Int) -> Int {
        points <= 1 ? 0 : Int((log2(Double(points))).rounded())
    }

    struct Key: Hashable {
        let kernel: Kernel
        let sizeClass: Int
        let placement: Placement
    }

    /// One kernel's tuning: its candidates (the rule's first), their measured runs, and the
    /// choice once made.
    struct Trial {
        var candidates: [KernelVariant?]
        var samples: [[Double]]
        var label: String
        /// Seconds its runs took in this process (the tuning budget grows with them).
        var spent = 0.0
        var skippedFirst = false
        var chosen: KernelVariant?? = nil
        var fromDatabase = false
        var started = false
        /// Times the kernel was placed here (measured or not).
        var seen = 0
        /// The kernel structure's digest, the database's key (when there is a database).
        var digest: KernelHistory.Digest? = nil
        /// When the measuring started (monotonic nanoseconds).
        var startedAt: UInt64 = 0
        /// The state of the generator that orders each round of candidates.
        var draws: UInt64 = 0x9E3779B97F4A7C15
    }

    let trials = Mutex<[Key: Trial]>([:])

    /// A tuner as `TANDEM_TUNE` asks (`TuneMode.parse`: `on` when unset), its choices kept in
    /// `database`.
    public static func fromEnvironment(database: TuningDatabase?) -> Tuner {
        let (mode, reorder) = TuneMode.parse(ProcessInfoLite.environment("TANDEM_TUNE"))
        return Tuner(mode: mode, reorder: reorder, database: database)
    }

    public init(mode: TuneMode, reorder: Bool = false, database: TuningDatabase?, minimumSeconds: Double = Tuner.defaultMinimumSeconds) {
        self.mode = mode
        self.reorder = reorder
        self.database = database
        self.minimumSeconds = minimumSeconds
    }

    var runsPerCandidate: Int { mode == .exhaustive ? 5 : 3 }

    /// What to run for `kernel` on `placement`: the rule's code (`nil`) or a variant; whether
    /// that choice is final for this process (the code may then be kept with the plan); and
    /// whether the run is to be measured (`sample`): not while a candidate's code is still being
    /// compiled, which takes a core from the runs it would be compared with.
    /// `compileSeconds`: the estimated compile of one candidate; `ready`: a variant's code if
    /// compiled; `request`: queues its compile on the side.
    func choose(_ kernel: Kernel, points: Int, placement: Placement, label: @autoclosure () -> String,
                compileSeconds: () -> Double, ready: (Kernel) -> Bool, request: (Kernel) -> Void) -> (variant: KernelVariant?, settled: Bool, measure: Bool) {
        let key = Key(kernel: kernel, sizeClass: Tuner.sizeClass(points), placement: placement)
        return trials.withLock { table -> (KernelVariant?, Bool, Bool) in
            if table[key] == nil {
                // Bounded: a program of ever new kernels (shapes that keep changing) tunes those
                // it met first and runs the rest with the rules' code.
                guard table.count < Tuner.maxTrials else { return (nil, true, false) }
                var candidates = KernelVariant.candidates(for: kernel, exhaustive: mode == .exhaustive, reorder: reorder)
                // The database's key, hashed once: looked up now, written with the choice.
                let digest = candidates.count > 1 && database != nil ? KernelHistory.digest(kernel) : nil
                // A saved choice holds if the kernel can take it at all: `tandem tune`'s
                // exhaustive run may have picked a variant outside the default mode's few.
                let saved = mode == .exhaustive ? nil : digest.flatMap { database?.choice($0, sizeClass: key.sizeClass, placement: placement) }
                if let saved, !candidates.contains(saved), KernelVariant.candidates(for: kernel, exhaustive: true, reorder: reorder).contains(saved) {
                    candidates.append(saved)
                }
                var trial = Trial(candidates: candidates, samples: candidates.map { _ in [] }, label: label())
                trial.digest = digest
                if candidates.count < 2 {
                    trial.chosen = .some(nil)
                } else if let saved, candidates.contains(saved) {
                    trial.chosen = .some(saved)
                    trial.fromDatabase = true
                }
                table[key] = trial
            }
            table[key]!.seen += 1
            // A kernel whose runs are never measured alone (a member of a lagged pass, a split
            // kernel), or whose candidates never all become ready, keeps the rules' code: it must
            // not stay unsettled, run after run, kept from the plan's code memo.
            if let t = table[key], t.chosen == nil,
               t.started ? ProcessInfoLite.monotonicNanos() - t.startedAt > Tuner.stallNanos : (!t.skippedFirst && t.seen > Tuner.stallPlacements) {
                table[key]!.chosen = .some(nil)
            }
            let trial = table[key]!
            if let chosen = trial.chosen {
                guard let v = chosen else { return (nil, true, false) }
                let variant = kernel.with(variant: v)
                if ready(variant) { return (v, true, false) }
                request(variant)
                return (nil, false, false)
            }
            // Not yet worth tuning: the rule's code, measured.
            if !trial.started {
                let ruleRuns = trial.samples[0]
                guard !ruleRuns.isEmpty, Tuner.median(ruleRuns) >= minimumSeconds,
                      mode == .exhaustive || trial.spent >= Tuner.budgetFactor * compileSeconds() * Double(trial.candidates.count - 1) else {
                    return (nil, false, true)
                }
                // From here the rule's runs are measured alongside the variants' (in shuffled
                // turns), so a change of the machine's load while measuring falls on all of them.
                table[key]!.started = true
                table[key]!.startedAt = ProcessInfoLite.monotonicNanos()
                table[key]!.samples[0] = []
                for v in trial.candidates.dropFirst() { request(kernel.with(variant: v!)) }
            }
            // Until every candidate's code is ready, the rule's code runs unmeasured.
            for v in trial.candidates.dropFirst() where !ready(kernel.with(variant: v!)) {
                request(kernel.with(variant: v!))
                return (nil, false, false)
            }
            // One of the candidates with the fewest runs, picked at random: in a fixed turn the
            // rule took every fourth run, and with a program of four runs of the kernel a step
            // that was always the step after the setup, on cold caches (N-body float32 measured
            // its rule 49 ms, each variant 38-39).
            let fewest = trial.samples.map(\.count).min()!
            let behind = trial.candidates.indices.filter { trial.samples[$0].count == fewest }
            table[key]!.draws = table[key]!.draws &* 6364136223846793005 &+ 1442695040888963407
            let pick = behind[Int((table[key]!.draws >> 33) % UInt64(behind.count))]
            return (trial.candidates[pick], false, true)
        }
    }

    /// Records a run of `kernel` (with `variant`, nil for the rule's code) that took `seconds`;
    /// the choice is made once every candidate has its runs. Returns the choice when this run
    /// made it.
    @discardableResult
    func sample(_ kernel: Kernel, points: Int, placement: Placement, variant: KernelVariant?, seconds: Double) -> KernelVariant?? {
        let key = Key(kernel: kernel, sizeClass: Tuner.sizeClass(points), placement: placement)
        return trials.withLock { table -> KernelVariant?? in
            guard var trial = table[key], trial.chosen == nil, let i = trial.candidates.firstIndex(of: variant) else { return nil }
            defer { table[key] = trial }
            trial.spent += seconds
            // A kernel's first run writes pages never touched and finds its inputs out of cache.
            guard trial.skippedFirst else {
                trial.skippedFirst = true
                return nil
            }
            // The candidates run in turn; a plan running the kernel several times a sync (all
            // chosen alike) adds more runs of one, of which only as many as the fewest-measured
            // candidate has, plus one, are kept, so they are measured side by side.
            if trial.started && trial.samples[i].count > trial.samples.map(\.count).min()! { return nil }
            trial.samples[i].append(seconds)
            let rule = Tuner.median(trial.samples[0])
            if !trial.started, trial.samples[0].count >= 2, rule < minimumSeconds {
                trial.chosen = .some(nil)       // too short to rank: the rule's code
                return nil
            }
            guard trial.started, trial.samples.allSatisfy({ $0.count >= runsPerCandidate }) else { return nil }
            let medians = trial.samples.map(Tuner.median)
            var best = 0
            for j in medians.indices where medians[j] < medians[best] { best = j }
            // A variant must beat the rule's median by the margin, and its best run the rule's
            // best run: one slow run among a few must not hand the choice to a variant.
            if best != 0 && (medians[best] > medians[0] * (1 - Tuner.margin) || trial.samples[best].min()! >= trial.samples[0].min()!) { best = 0 }
            trial.chosen = .some(trial.candidates[best])
            if let digest = trial.digest {
                database?.keep(digest, sizeClass: key.sizeClass, placement: placement,
                               chosen: trial.candidates[best], label: trial.label,
                               seconds: Dictionary(uniqueKeysWithValues: zip(trial.candidates.map { $0?.description ?? "rule" }, medians)))
            }
            return trial.chosen
        }
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .infinity }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// What the tuner knows, kernel by kernel: the candidates' median runs (of those measured),
    /// the choice, and whether it came from the database.
    public var report: [TuningReport] {
        trials.withLock { table in
            table.compactMap { key, t -> TuningReport? in
                guard t.candidates.count > 1 else { return nil }
                return TuningReport(label: t.label, placement: key.placement, sizeClass: key.sizeClass,
                                    candidates: zip(t.candidates, t.samples).map { ($0.0, $0.1.count, $0.1.isEmpty ? nil : Tuner.median($0.1)) },
                                    chosen: t.chosen, fromDatabase: t.fromDatabase, seen: t.seen)
            }.sorted { ($0.label, $0.sizeClass) < ($1.label, $1.sizeClass) }
        }
    }
}

/// One kernel's tuning as `Tuner.report` gives it.
public struct TuningReport: Sendable, CustomStringConvertible {
    public let label: String
    public let placement: Placement
    public let sizeClass: Int
    /// Each candidate (nil: the rule's code), its measured runs and their median (seconds).
    public let candidates: [(variant: KernelVariant?, runs: Int, median: Double?)]
    /// The choice (`.some(nil)`: the rule's code), nil while still measuring.
    public let chosen: KernelVariant??
    public let fromDatabase: Bool
    /// Times the kernel was placed here (a placement the kernel left stops counting).
    public let seen: Int

    public var description: String {
        let choice = chosen.map { $0?.description ?? "rule" } ?? "measuring"
        let rows = candidates.map { c in
            "\(c.variant?.description ?? "rule") " + (c.median.map { String(format: "%.3f ms", $0 * 1e3) } ?? "-") + " (\(c.runs) runs)"
        }
        return "\(label) [\(placement.rawValue), ~2^\(sizeClass) points]: \(choice)\(fromDatabase ? " (from the database)" : "") — " + rows.joined(separator: ", ")
    }
}
