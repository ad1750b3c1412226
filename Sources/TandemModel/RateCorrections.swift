#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Online corrections of the machine profile's rates from measured kernel times: one factor per
/// placement, the running geometric mean of measured / predicted compute time over the kernels
/// that ran there. A profile measured under load, on another day, or the built-in estimates of
/// a first run, are off by a factor the first few kernels reveal; predictions are scaled by it,
/// so one bad measurement at calibration cannot pin a bad choice for every later kernel.
///
/// Only kernels measured at `minimumSeconds` or more and predicted at `minimumPredicted` or more
/// teach it (shorter ones are dominated by call overheads, and a tiny kernel preempted once
/// would read as a misprediction of thousands). Each sample moves the log-factor by `weight` of its error,
/// and the factor stays within `1 / limit ... limit`. A placement nothing has run on keeps 1.
///
///     var c = RateCorrections()
///     c.learn(.interpreter, predicted: 1e-3, measured: 2e-3)
///     let scaled = c.factor(.interpreter) * prediction.compute
public struct RateCorrections: Sendable, Equatable {
    public static let minimumSeconds = 50e-6
    public static let minimumPredicted = 5e-6
    public static let weight = 0.2
    public static let limit = 16.0

    private var logFactor: [Placement: Double] = [:]
    /// Samples learned per placement.
    public private(set) var samples: [Placement: Int] = [:]

    public init() {}

    /// The factor predictions on `placement` are multiplied by.
    public func factor(_ placement: Placement) -> Double { exp(logFactor[placement] ?? 0) }

    /// Learns from one kernel run: its compute time as predicted before correction, and as measured.
    public mutating func learn(_ placement: Placement, predicted: Double, measured: Double) {
        guard predicted >= RateCorrections.minimumPredicted, measured >= RateCorrections.minimumSeconds,
              predicted.isFinite, measured.isFinite else { return }
        let error = log(measured / predicted)
        let old = logFactor[placement] ?? 0
        let bound = log(RateCorrections.limit)
        logFactor[placement] = min(bound, max(-bound, old + RateCorrections.weight * (error - old)))
        samples[placement, default: 0] += 1
    }

    /// `predictions` with each compute time scaled by its placement's factor.
    public func applied(to predictions: [Prediction]) -> [Prediction] {
        guard !logFactor.isEmpty else { return predictions }
        return predictions.map { p in
            var q = p
            q.compute *= factor(p.placement)
            return q
        }
    }
}
