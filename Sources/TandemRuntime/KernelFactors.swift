#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TandemIR
import TandemModel

/// What each kernel's runs measured against their predictions, per host placement: the
/// correction the placement decision trusts over the machine profile for that kernel.
///
/// `RateCorrections` scales a placement's every prediction; it cannot tell that one kernel runs
/// twice as fast on all workers as on one when the profile says the two are alike (a profile
/// measured while other work ran made memory-bound SOR look no faster on two workers than on
/// one: its sweep stayed on one worker, 0.8 s against 0.3 s). Here each kernel keeps a factor
/// per placement it has run on (measured / predicted by the profile alone, averaged in log),
/// which replaces the placement's correction for that kernel, and a kernel long enough to
/// measure (`explorationSeconds`) whose other host placement is predicted within
/// `explorationMargin` of the chosen one runs there now and then (`shouldExplore`). CPU
/// placements give the same bits, so a trial changes no result, only what the next decisions
/// know.
///
///     var f = KernelFactors()
///     f.learn(kernel, .cpu1, predicted: 1e-3, measured: 9e-3)
///     f.factors(kernel)[.cpu1]      // nil: a kernel's first run is not learned from
///     f.learn(kernel, .cpu1, predicted: 1e-3, measured: 2e-3)
///     f.factors(kernel)[.cpu1]      // 2: the next sets it
///     f.learn(kernel, .cpu1, predicted: 1e-3, measured: 8e-3)
///     f.factors(kernel)[.cpu1]      // 4: later ones move it half way (in log)
public struct KernelFactors: Sendable {
    /// Kernels predicted shorter than this are not tried elsewhere (the difference is small and
    /// a short run measures poorly).
    public static let explorationSeconds = 200e-6
    /// The other placement is tried when predicted within this factor of the chosen one.
    public static let explorationMargin = 1.5
    /// Share of each later measurement taken in (the first sets the factor).
    public static let weight = 0.5
    /// Runs shorter than this teach nothing (timer and scheduling noise).
    public static let minimumSeconds = 50e-6
    /// Factors stay within 1/limit ... limit.
    public static let limit = 16.0
    /// Kernels remembered; the table starts again beyond (a program of ever new kernels).
    public static let maxKernels = 4096

    private var table: [Kernel: [Placement: Double]] = [:]
    /// For each kernel and placement it may be tried on: calls of `shouldExplore` so far, the
    /// call of the next trial, and the interval after it.
    private var trials: [Tried: (calls: Int, next: Int, interval: Int)] = [:]
    /// Kernels whose first run was seen (and not learned from).
    private var warmed: Set<Kernel> = []
    /// Each kernel's first run, by placement (log error): not learned from here, but kept for
    /// the next process when it stays the kernel's only run (`persistable`).
    private var firstRuns: [Kernel: [Placement: Double]] = [:]

    private struct Tried: Hashable {
        let kernel: Kernel
        let placement: Placement
    }

    public init() {}

    /// The factors learned for `kernel`, by placement (empty when it never ran long enough).
    /// Whether `kernel` has a factor of its own on `placement`.
    public func has(_ kernel: Kernel, on placement: Placement) -> Bool { table[kernel]?[placement] != nil }

    public func factors(_ kernel: Kernel) -> [Placement: Double] {
        guard let logs = table[kernel] else { return [:] }
        return logs.mapValues { exp($0) }
    }

    /// Learns from one run of `kernel` on `placement`: its compute time as the profile alone
    /// predicts it (no correction) and the measured time. A kernel's first run teaches nothing:
    /// it writes pages never touched and finds its inputs out of cache (SOR's first sweep on all
    /// workers took 34 ms, the next ones 3.5; learned from, it sent the sweep to one worker for
    /// good after one trial there).
    public mutating func learn(_ kernel: Kernel, _ placement: Placement, predicted: Double, measured: Double) {
        guard predicted >= RateCorrections.minimumPredicted, measured >= KernelFactors.minimumSeconds,
              predicted.isFinite, measured.isFinite else { return }
        if warmed.count >= KernelFactors.maxKernels { warmed.removeAll() }
        let error = KernelFactors.bounded(log(measured / predicted))
        guard !warmed.insert(kernel).inserted else {
            if firstRuns.count < KernelFactors.maxKernels { firstRuns[kernel, default: [:]][placement] = error }
            return
        }
        if table.count >= KernelFactors.maxKernels && table[kernel] == nil { table.removeAll() }
        if let old = table[kernel]?[placement] {
            table[kernel]![placement] = old + KernelFactors.weight * (error - old)
        } else {
            table[kernel, default: [:]][placement] = error
        }
    }

    /// Starts `kernel` from factors an earlier process learned (`KernelFactorStore`), where this
    /// one has none: its next run here is learned from (moving them half way), not skipped as
    /// a first run.
    public mutating func seed(_ kernel: Kernel, _ factors: [Placement: Double]) {
        guard !factors.isEmpty else { return }
        if table.count >= KernelFactors.maxKernels && table[kernel] == nil { table.removeAll() }
        for (p, f) in factors where f > 0 && f.isFinite && table[kernel]?[p] == nil {
            table[kernel, default: [:]][p] = KernelFactors.bounded(log(f))
        }
        if warmed.count >= KernelFactors.maxKernels { warmed.removeAll() }
        warmed.insert(kernel)
    }

    /// What a later process should start from: every factor learned, and the first run of a
    /// placement that taught no factor (a kernel run once a program), as ratios.
    public func persistable() -> [Kernel: [Placement: Double]] {
        var out = table.mapValues { $0.mapValues { exp($0) } }
        for (kernel, runs) in firstRuns {
            for (p, e) in runs where out[kernel]?[p] == nil { out[kernel, default: [:]][p] = exp(e) }
        }
        return out
    }

    /// Whether `kernel` should run on `placement` now to measure it: true the first time asked
    /// for each pair, then after `retryInterval` more asks, then after twice as many, and so on.
    public mutating func shouldExplore(_ kernel: Kernel, _ placement: Placement) -> Bool {
        if trials.count >= KernelFactors.maxKernels { trials.removeAll() }
        let key = Tried(kernel: kernel, placement: placement)
        var t = trials[key] ?? (calls: 0, next: 0, interval: KernelFactors.retryInterval / 2)
        defer { trials[key] = t }
        t.calls += 1
        guard t.calls > t.next else { return false }
        t.interval *= 2
        t.next = t.calls + t.interval
        return true
    }

    /// A factor's log kept within 1/limit ... limit.
    static func bounded(_ logFactor: Double) -> Double {
        let bound = log(KernelFactors.limit)
        return min(bound, max(-bound, logFactor))
    }

    /// Asks between the first trial of a placement and the second (the interval doubles).
    public static let retryInterval = 16
}
