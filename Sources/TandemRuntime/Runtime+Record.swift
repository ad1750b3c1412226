import Synchronization
import TandemIR
import TandemCompiler
import TandemModel

// What ran: each decision with its prediction and measured time (statistics, rate corrections,
// the trace), and a queued kernel's time on its device when it is read back.
extension Runtime {
    /// Records a decision with its prediction and the measured time (statistics, trace).
    /// A measured host kernel also corrects the profile's rates (`rateCorrections`).
    /// `memo`: the kernel's memo in a cached plan; a run taking `Runtime.mispredictedFactor`
    /// times its prediction or more (and long enough to measure) marks it, so the decision is
    /// made again at the next run, with what this run taught, not reused up to eight times.
    func record(_ d: PlacementDecision, label: String, points: Int, started: UInt64, measured: UInt64?, note: String? = nil,
                kernel: Kernel? = nil, memo: KernelMemo? = nil) {
        let predicted = d.chosen.compute, device = d.chosen.placement.rawValue
        // A variant's run while the tuner compares candidates teaches the placement nothing:
        // losing candidates (up to a fifth slower) would price the kernel's placement by code
        // it will not run, and can move it mid-trial to another placement, where its trial
        // begins again (a tune-eval of shallow water ended with trials on all workers and on
        // one for the same kernels).
        let candidateRun = d.tuning && d.variant != nil
        if let measured, !d.switched, !d.chosen.placement.isAccelerator, !candidateRun {
            // Both learn against the profile's own prediction (the correction taken out).
            let seconds = Double(measured) / 1e9, uncorrected = predicted / d.correction
            if let memo, seconds >= KernelFactors.minimumSeconds, seconds > predicted * Runtime.mispredictedFactor {
                memo.mispredicted.store(true, ordering: .relaxed)
            }
            let p = d.chosen.placement
            // A kernel with a factor of its own here is predicted by it: its runs teach the
            // placement's correction (which prices every other kernel) no more, so one hot
            // kernel the profile misprices cannot drag it (gesummv's product, run a thousand
            // times at 2.7x its prediction, set cpu-1's correction to x5.2 for every kernel).
            // The interpreter too: covariance's column sum ran interpreted at 8x its prediction
            // run after run (its compiled code predicted slower, and the compile never paid by
            // the prediction), 0.63 ms against 20 µs compiled.
            var ownFactor = false
            if let kernel, p == .cpu1 || p == .cpuAll || p == .interpreter {
                ownFactor = kernelFactors.withLock { f in
                    let had = f.has(kernel, on: p)
                    if !d.forced { f.learn(kernel, p, predicted: uncorrected, measured: seconds) }
                    return had
                }
            }
            if !ownFactor { rateCorrections.withLock { $0.learn(p, predicted: uncorrected, measured: seconds) } }
            if let kernel, d.chosen.placement == .interpreter {
                interpretedNanos.withLock { table in
                    // Bounded: a program of ever new kernels keeps those it met first.
                    if table.count < 4096 || table[kernel] != nil { table[kernel, default: 0] += measured }
                }
            }
        }
        // The tuner measures host kernels run with the rules' code or a variant's.
        if d.tuning, let kernel, let measured, !d.switched, !d.specialised {
            tuner.sample(kernel, points: points, placement: d.chosen.placement, variant: d.variant, seconds: Double(measured) / 1e9)
        }
        // A queued kernel's task only enqueued it: its time on the device is not measured here.
        statistics.update { s in
            s.kernelsByPlacement[d.chosen.placement.ordinal] += 1
            // A forced placement the model cannot price (a device it has no measurements of)
            // predicts nothing, not a capped infinity.
            if predicted.isFinite { s.predictedNanos += UInt64(min(predicted, 1e6) * 1e9) }
            if let measured { s.addMeasured(nanos: measured, seconds: Double(measured) / 1e9, predicted: predicted) }
        }
        Tracer.shared.record(TraceEvent(kind: .placement, name: label, start: started, duration: measured ?? 0, points: points, device: device,
                                        detail: measured == nil ? d.summary + " (\(note ?? "queued; measured on the device"))" : d.summary,
                                        predicted: predicted))
    }

    /// A queued kernel's time on its device, reported after it ran (`record` counted the kernel
    /// when it was enqueued): the model's error, the placement's rate correction, and the
    /// kernel on the device's track of the trace.
    func recordDeviceTime(_ d: PlacementDecision, label: String, points: Int, seconds: Double) {
        let predicted = d.chosen.compute
        let measured = UInt64(max(seconds, 0) * 1e9)
        if !d.switched, predicted.isFinite {
            rateCorrections.withLock { $0.learn(d.chosen.placement, predicted: predicted / d.correction, measured: seconds) }
        }
        if predicted.isFinite {
            statistics.update { $0.addMeasured(nanos: measured, seconds: seconds, predicted: predicted) }
        } else {
            statistics.update { $0.measuredNanos += measured }
        }
        let now = ProcessInfoLite.monotonicNanos()
        Tracer.shared.record(TraceEvent(kind: .kernel, name: label, start: now &- min(measured, now), duration: measured, points: points,
                                        device: d.chosen.placement.rawValue, detail: "time on the device (drawn ending when it was read back)", predicted: predicted))
    }

}

extension Statistics {
    /// One kernel measured against its prediction: a decision, its time, and the model's error.
    mutating func addMeasured(nanos: UInt64, seconds: Double, predicted: Double) {
        let error = abs(seconds - predicted)
        decisions += 1
        measuredNanos += nanos
        modelAbsErrorNanos += UInt64(min(error, 1e6) * 1e9)
        modelRelErrorSum += min(error / max(seconds, 1e-9), 1e6)
    }
}
