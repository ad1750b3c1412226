/// One kernel cut along its outer parallel axis between the host (compiled C on the workers)
/// and an accelerator, both parts at once (Karnagel, Habich and Lehner, 2016): the host share
/// `p` of the rows minimises `max(host(p), device(1 - p))`, where the device's part pays for
/// copying its rows of the inputs it lacks, then its launch and compute. What it writes stays
/// on the device until something reads it elsewhere (residency by byte range): that copy is the
/// reader's, as for a whole kernel on the device.
public struct SplitPrediction: Sendable, Equatable, CustomStringConvertible {
    /// The host's share of the outer axis's rows, 0 ... 1.
    public var hostShare: Double
    /// Predicted seconds of each part, from the split's start.
    public var host: Double
    public var device: Double
    /// The parts' kernels alone (launch and compute, no copies), before the measured factors:
    /// what a part's measured time is compared with (`SplitFactors`).
    public var hostKernel: Double
    public var deviceKernel: Double
    /// Moving the rows of inputs cut elsewhere by the split that wrote them (both parts wait).
    public var moves = 0.0
    /// Whether the parts take turns on the same cores (a device on the host's cores with fewer
    /// cores left than it and the workers use): then they finish together only by adding up.
    public var sequential = false
    /// When the later part finishes.
    public var finish: Double { moves + (sequential ? host + device : max(host, device)) }

    public init(hostShare: Double, host: Double, device: Double, hostKernel: Double = 0, deviceKernel: Double = 0) {
        self.hostShare = hostShare
        self.host = host
        self.device = device
        self.hostKernel = hostKernel
        self.deviceKernel = deviceKernel
    }

    public var description: String {
        "host \(Int((hostShare * 100).rounded())) % of the rows: host \(CostModel.format(host)), device \(CostModel.format(device))"
    }
}

/// How much longer than predicted one split kernel's parts ran (measured / predicted kernel
/// time, a running geometric mean, each sample weighing half): a kernel split again is cut by
/// what its parts measured, not by the profile alone (a smoothing kernel on PoCL ran its rows
/// in 56 µs where the profile said 320: the host was given 88 % where 60 % was fastest).
///
///     var f = SplitFactors()
///     f.learn(host: true, predicted: 1e-3, measured: 2e-3)
///     f.host     // about 1.41
public struct SplitFactors: Sendable, Equatable {
    public private(set) var host = 1.0
    public private(set) var device = 1.0
    public init() {}

    /// Whether both factors are within 5 % of `other`'s (a split searched with those stands).
    public func isClose(to other: SplitFactors) -> Bool {
        abs(host / other.host - 1) <= 0.05 && abs(device / other.device - 1) <= 0.05
    }

    public mutating func learn(host onHost: Bool, predicted: Double, measured: Double) {
        guard predicted >= RateCorrections.minimumPredicted, measured >= RateCorrections.minimumSeconds / 5,
              predicted.isFinite, measured.isFinite else { return }
        let limit = RateCorrections.limit
        func step(_ old: Double) -> Double { min(limit, max(1 / limit, (old * min(limit, max(1 / limit, measured / predicted))).squareRoot())) }
        if onHost { host = step(host) } else { device = step(device) }
    }
}

extension CostModel {
    /// Shares tried between 0 and 1 (the predictions are not linear in the share: cache levels,
    /// waves, chunk counts).
    public static let splitSteps = 100

    /// The predicted time of each part when the host takes `hostShare` of `run`'s rows and
    /// `device` the rest, the kernels' times scaled by `factors`. Compiled code is taken as
    /// ready on both sides.
    /// `cuts`: inputs a split wrote at another host share (`share` of their rows on the host,
    /// the rest on the device, `bytes` in all): the rows between that cut and this one move
    /// before either part runs.
    /// `sequential`: the parts compete for the same cores (`SplitPrediction.sequential`).
    public func split(_ f: KernelFeatures, _ run: KernelRun, device: Placement, hostShare: Double,
                      factors: SplitFactors = SplitFactors(), cuts: [(share: Double, bytes: Int)] = [],
                      sequential: Bool = false) -> SplitPrediction {
        func part(_ share: Double) -> KernelRun {
            var r = run
            func scaled(_ x: Int) -> Int { Int((Double(x) * share).rounded()) }
            r.points = scaled(run.points)
            r.parallelPoints = scaled(run.parallelPoints)
            r.firstExtent = max(1, scaled(run.firstExtent))
            r.bytes = scaled(run.bytes)
            r.freshBytes = scaled(run.freshBytes)
            r.hostOnlyBytes = scaled(run.hostOnlyBytes)
            r.code = [.cpu1: .ready, .cpuAll: .ready, device: .ready]
            return r
        }
        let p = min(max(hostShare, 0), 1)
        var out = SplitPrediction(hostShare: p, host: 0, device: 0)
        out.sequential = sequential
        let gpu = device == .cuda ? profile.gpu : profile.openCL
        for c in cuts where abs(c.share - p) > 1e-9 {
            // Host rows the device now needs (p < share), or device rows the host needs.
            out.moves += transfer(Int((abs(c.share - p) * Double(c.bytes)).rounded()), gpu: gpu, toDevice: p < c.share)
        }
        // Rows moved once stay where they went for the runs after (a kernel that comes back is
        // cut the same way): amortised like a compile, over as many runs ahead as behind. Else
        // data left on one side by earlier work held every later step there (a grid the
        // accelerator wrote stayed on it while the host was 1.3x faster).
        out.moves /= Double(run.previousRuns + 1)
        if p > 0 {
            var r = part(p)
            r.hostOnlyBytes = 0
            let h = predict(f, r, on: .cpuAll)
            out.hostKernel = h.launch + h.compute
            out.host = h.transfer + out.hostKernel * factors.host
        }
        if p < 1 {
            let d = predict(f, part(1 - p), on: device)
            out.deviceKernel = d.launch + d.compute
            out.device = d.transfer + out.deviceKernel * factors.device
        }
        return out
    }

    /// The host share (a multiple of 1/`splitSteps`) whose parts are predicted to finish first
    /// (the best tenth, then the hundredths beside it), or the largest input's cut when that is
    /// within a device launch of it; nil when the model cannot price the device (no
    /// measurements of it in the profile).
    ///
    ///     let best = model.bestSplit(features, run, device: .opencl)
    ///     print(best?.hostShare ?? 0.5)
    public func bestSplit(_ f: KernelFeatures, _ run: KernelRun, device: Placement, factors: SplitFactors = SplitFactors(),
                          cuts: [(share: Double, bytes: Int)] = [], sequential: Bool = false) -> SplitPrediction? {
        let whole = split(f, run, device: device, hostShare: 0, factors: factors, cuts: cuts, sequential: sequential)
        guard whole.device.isFinite else { return nil }
        // Tenths first, then hundredths around the best tenth (31 shares, not 101).
        var best = whole
        let steps = CostModel.splitSteps, coarse = steps / 10
        for s in stride(from: coarse, through: steps, by: coarse) {
            let c = split(f, run, device: device, hostShare: Double(s) / Double(steps), factors: factors, cuts: cuts, sequential: sequential)
            if c.finish < best.finish { best = c }
        }
        let center = Int((best.hostShare * Double(steps)).rounded())
        for s in max(0, center - coarse + 1)...min(steps, center + coarse - 1) where s != center {
            let c = split(f, run, device: device, hostShare: Double(s) / Double(steps), factors: factors, cuts: cuts, sequential: sequential)
            if c.finish < best.finish { best = c }
        }
        // The cut of the largest input, unless it is predicted slower by more than a launch on
        // the device: rows that stay where they are need no copy, and no part waits for the
        // other side's producer (a wait the copies' prices leave out: shallow water's small
        // kernels sent whole to the host waited for the device part before them, 0.1-0.2 s a
        // run on PoCL, where cut like their inputs they ran in microseconds).
        if let main = cuts.max(by: { $0.bytes < $1.bytes }), abs(main.share - best.hostShare) > 1e-9 {
            let aligned = split(f, run, device: device, hostShare: main.share, factors: factors, cuts: cuts, sequential: sequential)
            let launch = (device == .cuda ? profile.gpu : profile.openCL)?.launchSeconds ?? 0
            if aligned.finish <= best.finish + launch { best = aligned }
        }
        return best
    }
}
