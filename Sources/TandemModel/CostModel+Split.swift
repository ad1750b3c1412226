/// One kernel cut along its outer parallel axis between the host (compiled C on the workers)
/// and an accelerator, both parts at once (Karnagel, Habich and Lehner, 2016): the host share
/// `p` of the rows minimises `max(host(p), device(1 - p))`, where the device's part pays for
/// copying its inputs over (whole buffers not yet valid there), its launch and compute, and for
/// copying the rows it wrote back to the host.
public struct SplitPrediction: Sendable, Equatable, CustomStringConvertible {
    /// The host's share of the outer axis's rows, 0 ... 1.
    public var hostShare: Double
    /// Predicted seconds of each part, from the split's start.
    public var host: Double
    public var device: Double
    /// When the later part finishes.
    public var finish: Double { max(host, device) }

    public init(hostShare: Double, host: Double, device: Double) {
        self.hostShare = hostShare
        self.host = host
        self.device = device
    }

    public var description: String {
        "host \(Int((hostShare * 100).rounded())) % of the rows: host \(CostModel.format(host)), device \(CostModel.format(device))"
    }
}

extension CostModel {
    /// Shares tried between 0 and 1 (the predictions are not linear in the share: cache levels,
    /// waves, chunk counts).
    public static let splitSteps = 100

    /// The predicted time of each part when the host takes `hostShare` of `run`'s rows and
    /// `device` the rest; `writtenBytes`: bytes the whole kernel stores (the device's share of
    /// them is copied back). Compiled code is taken as ready on both sides.
    public func split(_ f: KernelFeatures, _ run: KernelRun, device: Placement, writtenBytes: Int, hostShare: Double) -> SplitPrediction {
        func part(_ share: Double) -> KernelRun {
            var r = run
            func scaled(_ x: Int) -> Int { Int((Double(x) * share).rounded()) }
            r.points = scaled(run.points)
            r.parallelPoints = scaled(run.parallelPoints)
            r.firstExtent = max(1, scaled(run.firstExtent))
            r.bytes = scaled(run.bytes)
            r.freshBytes = scaled(run.freshBytes)
            r.code = [.cpu1: .ready, .cpuAll: .ready, device: .ready]
            return r
        }
        let p = min(max(hostShare, 0), 1)
        var host = 0.0, onDevice = 0.0
        if p > 0 {
            var r = part(p)
            r.hostOnlyBytes = 0
            let h = predict(f, r, on: .cpuAll)
            host = h.launch + h.compute + h.transfer
        }
        if p < 1 {
            // The inputs not yet on the device go over whole (residency is by buffer).
            let d = predict(f, part(1 - p), on: device)
            let gpu = device == .cuda ? profile.gpu : profile.openCL
            let back = transfer(Int((Double(writtenBytes) * (1 - p)).rounded()), gpu: gpu, toDevice: false)
            onDevice = d.transfer + d.launch + d.compute + back
        }
        return SplitPrediction(hostShare: p, host: host, device: onDevice)
    }

    /// The host share (a multiple of 1/`splitSteps`) whose parts are predicted to finish first,
    /// or nil when the model cannot price the device (no measurements of it in the profile).
    ///
    ///     let best = model.bestSplit(features, run, device: .opencl, writtenBytes: 8 << 20)
    ///     print(best?.hostShare ?? 0.5)
    public func bestSplit(_ f: KernelFeatures, _ run: KernelRun, device: Placement, writtenBytes: Int) -> SplitPrediction? {
        let whole = split(f, run, device: device, writtenBytes: writtenBytes, hostShare: 0)
        guard whole.device.isFinite else { return nil }
        var best = whole
        for s in 1...CostModel.splitSteps {
            let c = split(f, run, device: device, writtenBytes: writtenBytes, hostShare: Double(s) / Double(CostModel.splitSteps))
            if c.finish < best.finish { best = c }
        }
        return best
    }
}
