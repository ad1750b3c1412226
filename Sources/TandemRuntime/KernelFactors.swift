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
/// measure (`explorationSeconds`)
/// whose other host placement is predicted within `explorationMargin` of the chosen one and
/// was never measured runs there once. CPU placements give the same bits, so the trial changes
/// no result, only what the next decisions know.
///
///     var f = KernelFactors()
///     f.learn(kernel, .cpu1, predicted: 1e-3, measured: 2e-3)
///     f.factors(kernel)[.cpu1]      // 2: the first run sets it
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
    private var tried: Set<Tried> = []

    private struct Tried: Hashable {
        let kernel: Kernel
        let placement: Placement
    }

    public init() {}

    /// The factors learned for `kernel`, by placement (empty when it never ran long enough).
    public func factors(_ kernel: Kernel) -> [Placement: Double] {
        guard let logs = table[kernel] else { return [:] }
        return logs.mapValues { exp($0) }
    }

    /// Learns from one run of `kernel` on `placement`: its compute time as the profile alone
    /// predicts it (no correction) and the measured time.
    public mutating func learn(_ kernel: Kernel, _ placement: Placement, predicted: Double, measured: Double) {
        guard predicted >= RateCorrections.minimumPredicted, measured >= KernelFactors.minimumSeconds,
              predicted.isFinite, measured.isFinite else { return }
        if table.count >= KernelFactors.maxKernels && table[kernel] == nil { table.removeAll() }
        let bound = log(KernelFactors.limit)
        let error = min(bound, max(-bound, log(measured / predicted)))
        if let old = table[kernel]?[placement] {
            table[kernel]![placement] = old + KernelFactors.weight * (error - old)
        } else {
            table[kernel, default: [:]][placement] = error
        }
    }

    /// Whether `kernel` should run on `placement` once to measure it: true the first time asked
    /// for each pair, false after (the trial is made once, measured or not).
    public mutating func shouldExplore(_ kernel: Kernel, _ placement: Placement) -> Bool {
        if tried.count >= KernelFactors.maxKernels { tried.removeAll() }
        return tried.insert(Tried(kernel: kernel, placement: placement)).inserted
    }
}
